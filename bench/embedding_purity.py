"""Which embedding suits typicality: layers and pooling from one detector forward pass.

For each candidate (a layer of the detector, or several concatenated; mean, max or mean+max
pooling over the whole map, or -- the second table -- mean or max over the cells under the
``top_k`` most confident boxes the same pass predicts, as the detector adapter's
``embedding_boxes`` does) every labeled image gets an embedding; the score is k-NN class
purity: the mean Jaccard similarity between an image's class set and those of its ``k``
nearest neighbours (cosine), against the same for random neighbours (the chance level).
Higher is better: images close in the embedding hold the same classes, which is what
clusters and typicality rely on. The third table is the ceiling that localization sets: each
object's features pooled over its *ground-truth* box, and the share of its ``k`` nearest
objects (from other images) of the same class, against chance (the sum of squared class
shares).

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
from numpy.typing import NDArray

from al_object_detection.offline import activate

LAYERS = {"P5 backbone (SPPF)": (9,), "P3 out": (15,), "P4 out": (18,), "P5 out (-2)": (21,)}
MULTI = {"P3+P4+P5 out": (15, 18, 21)}
POOLINGS = ("mean", "max", "mean+max")
FOREGROUND_LAYERS = {"P3 out": 15, "P4 out": 18}
OBJECT_LAYERS = {"C2f stride 8 (4)": 4, "C2f stride 16 (6)": 6, "P3 out": 15, "P4 out": 18}
TOP_K = (0, 1, 3, 5, 10)  # 0: the whole map
CONF, IOU = 0.05, 0.6  # the adapter's [predict] defaults


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
    features, boxes = layer_features(args.weights, [i.filepath for i in images], args.imgsz)
    print(f"{len(images)} images, {len(data.classes)} classes, forward pass "
          f"{time.monotonic() - began:.0f} s; k = {args.k}")  # fmt: skip
    chance = purity(np.random.default_rng(0).normal(size=(len(images), 8)), class_sets, args.k)
    print(f"{'candidate':<22} {'pooling':<9} {'dim':>5}  purity  (random neighbours {chance:.3f})")
    for name, layers in {**LAYERS, **MULTI}.items():
        for pooling in POOLINGS:
            emb = np.concatenate([_unit(pooled(features[j], pooling)) for j in layers], axis=1)
            score = purity(emb, class_sets, args.k)
            print(f"{name:<22} {pooling:<9} {emb.shape[1]:>5}  {score:.3f}")
    found = sum(len(b) > 0 for b in boxes)
    print(f"\nforeground pooling ({found} of {len(boxes)} images with a predicted box):")
    print(f"{'candidate':<22} {'pooling':<9} " + " ".join(f"top-{k:<3}" for k in TOP_K))
    for name, j in FOREGROUND_LAYERS.items():
        for how in ("mean", "max"):
            scores = [
                purity(foreground(features[j], boxes, args.imgsz, how, k), class_sets, args.k)
                for k in TOP_K
            ]
            print(f"{name:<22} {how:<9} " + " ".join(f"{s:.3f} " for s in scores))
    print("\nobjects at their ground-truth boxes:")
    for name, j in OBJECT_LAYERS.items():
        for how in ("mean", "max"):
            score, chance, objects = object_purity(features[j], images, args.imgsz, how, args.k)
            print(f"{name:<22} {how:<9} {score:.3f}  ({objects} objects, chance {chance:.3f})")


def layer_features(
    weights: Path, paths: list[Path], imgsz: int
) -> tuple[dict[int, list[Any]], list[Any]]:
    """Raw feature maps of every candidate layer and the predicted boxes (input pixels, with
    confidence), per image, from one forward pass each."""
    import torch
    from PIL import Image
    from ultralytics import YOLO
    from ultralytics.utils import nms

    model = YOLO(str(weights)).model.float().eval()
    wanted = sorted(
        {j for layers in (*LAYERS.values(), *MULTI.values()) for j in layers}
        | {*FOREGROUND_LAYERS.values(), *OBJECT_LAYERS.values()}
    )
    grabbed: dict[int, Any] = {}
    for j in wanted:
        model.model[j].register_forward_hook(lambda _m, _i, out, j=j: grabbed.__setitem__(j, out))
    out: dict[int, list[Any]] = {j: [] for j in wanted}
    boxes = []
    with torch.no_grad():
        for path in paths:
            img = Image.open(path).convert("RGB").resize((imgsz, imgsz))
            x = torch.from_numpy(np.asarray(img, np.float32) / 255).permute(2, 0, 1)[None]
            preds = model(x)
            boxes.append(nms.non_max_suppression(preds, CONF, IOU, max_det=100)[0])
            for j in wanted:
                out[j].append(grabbed[j][0].float())
    return out, boxes


def foreground(maps: list[Any], boxes: list[Any], imgsz: int, how: str, top_k: int) -> NDArray[Any]:
    """One vector per image, pooled over its ``top_k`` most confident boxes as the adapter does."""
    from al_object_detection.adapters.detection.pooling import foreground_embedding

    return np.stack([
        foreground_embedding(
            m, b[:, :4], b[:, 4], input_hw=(imgsz, imgsz), how=how, top_k=top_k
        ).numpy()
        for m, b in zip(maps, boxes, strict=True)
    ])  # fmt: skip


def object_purity(
    maps: list[Any], images: list[Any], imgsz: int, how: str, k: int
) -> tuple[float, float, int]:
    """Per object: the share of its ``k`` nearest objects of other images (cosine, features
    pooled over ground-truth boxes) that have its class; the chance level; the object count."""
    import torch

    from al_object_detection.adapters.detection.pooling import foreground_embedding

    rows, classes, owners = [], [], []
    for index, (m, image) in enumerate(zip(maps, images, strict=True)):
        for (x, y, w, h), label in zip(image.boxes, image.labels, strict=True):
            box = torch.tensor([[x, y, x + w, y + h]], dtype=torch.float32) * imgsz
            one = foreground_embedding(
                m, box, torch.ones(1), input_hw=(imgsz, imgsz), how=how, top_k=1
            )
            rows.append(one.numpy())
            classes.append(label)
            owners.append(index)
    x, same_image = _unit(np.stack(rows)), np.equal.outer(owners, owners)
    sim = np.where(same_image, -np.inf, x @ x.T)
    nearest = np.argsort(-sim, axis=1)[:, :k]
    labels = np.asarray(classes)
    shares = np.unique(labels, return_counts=True)[1] / len(labels)
    score = float((labels[nearest] == labels[:, None]).mean())
    return score, float((shares**2).sum()), len(labels)


def pooled(maps: list[Any], how: str) -> NDArray[Any]:
    """One vector per feature map: mean, max or both concatenated over space."""
    rows = []
    for m in maps:
        mean, peak = m.mean(dim=(1, 2)).numpy(), m.amax(dim=(1, 2)).numpy()
        rows.append({"mean": mean, "max": peak, "mean+max": np.concatenate([mean, peak])}[how])
    return np.stack(rows)


def purity(emb: NDArray[Any], class_sets: list[frozenset[str]], k: int) -> float:
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


def _unit(x: NDArray[Any]) -> NDArray[Any]:
    """Rows at unit L2 norm, as the typicality strategy sees them."""
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))


if __name__ == "__main__":
    main()
