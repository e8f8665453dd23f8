"""A tiny active-learning project run as a child process, optionally killed mid-round.

    python tiny_project.py STATE_FILE DATASET SHAPES_DIR WORKDIR LEDGER [--crash-at POINT]

POINT is ``step:N`` (SIGKILL after N engine steps, i.e. between committed steps) or one of
``after_submit``, ``after_train``, ``after_import`` (SIGKILL right after that side effect
happened and before the engine recorded it). The annotator is an oracle that keeps a ledger
file of batches it created, like a server that looks a batch up by its key before creating.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from al_object_detection.adapters.fiftyone_store import FiftyOneStore
from al_object_detection.adapters.oracle import OracleAnnotator
from al_object_detection.adapters.ultralytics_detector import YOLOv8_ALObjectDetector
from al_object_detection.adapters.yolo_config import parse_yolo_config
from al_object_detection.learner import ObjectDetectionActiveLearner

TINY = {
    "train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "device": "cpu"},
    "predict": {"imgsz": 64, "conf": 0.001, "max_det": 10, "device": "cpu"},
}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class LedgerOracle(OracleAnnotator):
    """The oracle, with a persistent record of every batch created on the 'server'."""

    def __init__(self, store: FiftyOneStore, ledger: Path, crash_at: str) -> None:
        super().__init__(store)
        self.ledger, self.crash_at = ledger, crash_at

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        lines = self.ledger.read_text().splitlines() if self.ledger.exists() else []
        created = {json.loads(line)["key"]: json.loads(line) for line in lines}
        if key not in created:
            with self.ledger.open("a") as ledger:
                ledger.write(json.dumps({"key": key, "sample_ids": list(sample_ids)}) + "\n")
        handle = super().submit(key, sample_ids, prelabels)
        if self.crash_at == "after_submit":
            die()
        return handle


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("state", "dataset", "shapes", "workdir", "ledger"):
        parser.add_argument(name, type=Path if name != "dataset" else str)
    parser.add_argument("--crash-at", default="")
    args = parser.parse_args()

    from al_object_detection.adapters.fiftyone_store import import_fiftyone
    from al_object_detection.data.yolo import read_yolo

    fo = import_fiftyone()
    if not fo.dataset_exists(args.dataset):
        FiftyOneStore.open(args.dataset, create=True).add(read_yolo(args.shapes))
    store = FiftyOneStore.open(args.dataset)
    annotator = LedgerOracle(store, args.ledger, args.crash_at)
    if args.state.exists():
        learner = ObjectDetectionActiveLearner.from_cache(args.state, annotator=annotator)
    else:
        detector = YOLOv8_ALObjectDetector(
            "yolov8n.yaml", parse_yolo_config(TINY), work_dir=args.workdir / "detector"
        )
        learner = ObjectDetectionActiveLearner(
            store, detector, annotator=annotator, budget=4, rounds=1, bootstrap_size=6,
            state_path=args.state, workdir=args.workdir, poll_interval_s=0,
        )  # fmt: skip
    _arm_crash(learner, args.crash_at)
    learner.run_active_learning()
    print("finished")


def _arm_crash(learner: ObjectDetectionActiveLearner, crash_at: str) -> None:
    engine = learner.engine
    if crash_at.startswith("step:"):
        remaining = [int(crash_at.split(":")[1])]
        step = engine.step

        def counted_step() -> Any:
            if remaining[0] == 0:
                die()
            remaining[0] -= 1
            return step()

        engine.step = counted_step  # type: ignore[method-assign]
    elif crash_at == "after_train":
        train = engine.ctx.detector.train

        def train_then_die(*args: Any, **kwargs: Any) -> Any:
            train(*args, **kwargs)
            die()

        engine.ctx.detector.train = train_then_die
    elif crash_at == "after_import":
        set_labels = engine.ctx.store.set_labels

        def import_then_die(*args: Any, **kwargs: Any) -> None:
            set_labels(*args, **kwargs)
            die()

        engine.ctx.store.set_labels = import_then_die  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
