"""Which embedding suits typicality: layers and pooling from one detector forward pass.

For each candidate (a layer of the detector, or several concatenated; mean, max or mean+max
pooling) every labeled image gets an embedding; the score is k-NN class purity: the mean
Jaccard similarity between an image's class set and those of its ``k`` nearest neighbours
(cosine), against the same for random neighbours (the chance level). Higher is better: images
close in the embedding hold the same classes, which is what clusters and typicality rely on.

    python bench/embedding_purity.py --data DIR --weights MODEL.pt [--imgsz 160] [--k 10]

``DIR`` is a YOLO folder (``alod data fashion OUT --class-weights long_tail`` makes one);
``MODEL.pt`` a detector fine-tuned on it (e.g. a round-0 model of the label-efficiency bench).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from al_object_detection.offline import activate

LAYERS = {"P5 backbone (SPPF)": (9,), "P3 out": (15,), "P4 out": (18,), "P5 out (-2)": (21,)}
MULTI = {"P3+P4+P5 out": (15, 18, 21)}
POOLINGS = ("mean", "max", "mean+max")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    activate(Path("bench-runs/embedding_purity/state").resolve())
    from al_object_detection.data.yolo import read_yolo

    data = read_yolo(args.data)
    images = [i for i in data.images if i.boxes is not None][: args.limit]
    class_sets = [frozenset(i.labels) for i in images]
    began = time.monotonic()
    features = layer_features(args.weights, [i.filepath for i in images], args.imgsz)
    print(f"{len(images)} images, {len(data.classes)} classes, forward pass "
          f"{time.monotonic() - began:.0f} s; k = {args.k}")  # fmt: skip
    chance = purity(np.random.default_rng(0).normal(size=(len(images), 8)), class_sets, args.k)
    print(f"{'candidate':<22} {'pooling':<9} {'dim':>5}  purity  (random neighbours {chance:.3f})")
    for name, layers in {**LAYERS, **MULTI}.items():
        for pooling in POOLINGS:
            emb = np.concatenate([_unit(pooled(features[j], pooling)) for j in layers], axis=1)
            score = purity(emb, class_sets, args.k)
            print(f"{name:<22} {pooling:<9} {emb.shape[1]:>5}  {score:.3f}")


def layer_features(weights: Path, paths: list[Path], imgsz: int) -> dict[int, list[Any]]:
    """Raw feature maps of every candidate layer, per image, from one forward pass each."""
    import torch
    from PIL import Image
    from ultralytics import YOLO

    model = YOLO(str(weights)).model.float().eval()
    wanted = sorted({j for layers in (*LAYERS.values(), *MULTI.values()) for j in layers})
    grabbed: dict[int, Any] = {}
    for j in wanted:
        model.model[j].register_forward_hook(lambda _m, _i, out, j=j: grabbed.__setitem__(j, out))
    out: dict[int, list[Any]] = {j: [] for j in wanted}
    with torch.no_grad():
        for path in paths:
            img = Image.open(path).convert("RGB").resize((imgsz, imgsz))
            x = torch.from_numpy(np.asarray(img, np.float32) / 255).permute(2, 0, 1)[None]
            model(x)
            for j in wanted:
                out[j].append(grabbed[j][0].float())
    return out


def pooled(maps: list[Any], how: str) -> np.ndarray:
    """One vector per feature map: mean, max or both concatenated over space."""
    rows = []
    for m in maps:
        mean, peak = m.mean(dim=(1, 2)).numpy(), m.amax(dim=(1, 2)).numpy()
        rows.append({"mean": mean, "max": peak, "mean+max": np.concatenate([mean, peak])}[how])
    return np.stack(rows)


def purity(emb: np.ndarray, class_sets: list[frozenset[str]], k: int) -> float:
    """Mean Jaccard similarity of class sets between each image and its k nearest neighbours."""
    x = _unit(emb)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argsort(-sim, axis=1)[:, :k]
    scores = [
        len(class_sets[i] & class_sets[j]) / max(len(class_sets[i] | class_sets[j]), 1)
        for i in range(len(x))
        for j in nearest[i]
    ]
    return float(np.mean(scores))


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows at unit L2 norm, as the typicality strategy sees them."""
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))


if __name__ == "__main__":
    main()
