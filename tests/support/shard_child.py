"""The predicting step of one round, in shards, run as a child process and stopped at named
fault points.

    python shard_child.py STATE_FILE DATASET WEIGHTS SHARD_SIZE BACKEND WRITTEN_LOG

The fault points (see :mod:`fault_points`) are ``written:<shard>`` once a shard's predictions
are in the store, before its intent completes, and ``done:<shard>`` right after. Each call of
the store's ``write_predictions`` appends the ids it wrote to WRITTEN_LOG (a JSON list a line).
BACKEND is ``local`` or ``ray`` (a local Ray on 2 CPUs, started by this process, in
``$RAY_TMPDIR``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from fault_points import reached

from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
from al_object_detection.adapters.detection.compute import ComputeSettings, on_backend
from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
from al_object_detection.states.shards import cut, predict_shards
from al_object_detection.states.store import RoundStore

PREDICT = {"imgsz": 64, "conf": 0.001, "max_det": 10, "batch": 4, "device": "cpu"}
PREFIX = "predict:tiny:r1"


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, kind in (("state", Path), ("dataset", str), ("weights", Path), ("shard_size", int),
                       ("backend", str), ("written", Path)):  # fmt: skip
        parser.add_argument(name, type=kind)
    args = parser.parse_args()

    import_fiftyone()
    store = FiftyOneStore.open(args.dataset)
    intents = RoundStore(args.state)
    local = YOLOv8_ALObjectDetector(args.weights, parse_yolo_config({"predict": PREDICT}))
    if args.backend == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False)
    detector = on_backend(local, ComputeSettings(backend=args.backend, batch_size=3))
    _add_fault_points(store, intents, args.written)
    shards = cut(store.ids("pool"), args.shard_size, prefix=PREFIX, model_id=detector.model_id)
    predict_shards(store, intents, shards, round_index=1, detector=detector)
    print("finished")


def _add_fault_points(store: FiftyOneStore, intents: RoundStore, written: Path) -> None:
    write, complete = store.write_predictions, intents.complete_intent

    def write_and_log(predictions: Any, classes: Any, **options: Any) -> int:
        pairs = list(predictions)
        with written.open("a") as out:
            out.write(json.dumps([sample_id for sample_id, _ in pairs]) + "\n")
        return write(pairs, classes, **options)

    def complete_between_points(key: str, result: Any) -> None:
        shard = key.split(":")[-2].removeprefix("s")
        reached(f"written:{shard}")
        complete(key, result)
        reached(f"done:{shard}")

    store.write_predictions = write_and_log  # type: ignore[method-assign]
    intents.complete_intent = complete_between_points  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
