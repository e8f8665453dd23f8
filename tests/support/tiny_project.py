"""A tiny active-learning project run as a child process, stopped at named fault points.

    python tiny_project.py STATE_FILE DATASET SHAPES_DIR WORKDIR SUBMITS

The fault points (see :mod:`fault_points`) are ``step:<round>:<state>`` before every engine
step (``step:none`` before round 0 exists) and ``submitted:<round>``, ``imported:<round>``,
``trained:<round>`` right after that side effect happened, before the engine recorded it. The
annotator is the oracle, counting: it appends every ``submit`` call to the SUBMITS file, and its
clock advances one tick per reading (kept in a file beside SUBMITS, so it never runs back in a
resumed process): a batch is done after a few polls.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from fault_points import reached

from al_object_detection.adapters.annotation.oracle import OracleAnnotator
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
from al_object_detection.learner import ObjectDetectionActiveLearner

TINY = {
    "train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "device": "cpu"},
    "predict": {"imgsz": 64, "conf": 0.001, "max_det": 10, "device": "cpu"},
}
POLLS_PER_BATCH = 3


class CountingOracle(OracleAnnotator):
    """The oracle, appending every submit call (not only new keys) to a file."""

    def __init__(self, store: FiftyOneStore, submits: Path) -> None:
        super().__init__(store, delay_s=POLLS_PER_BATCH, clock=self._tick)
        self.submits, self.ticks = submits, submits.with_suffix(".ticks")

    def _tick(self) -> float:
        now = int(self.ticks.read_text()) if self.ticks.exists() else 0
        self.ticks.write_text(str(now + 1))
        return float(now)

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        with self.submits.open("a") as out:
            out.write(json.dumps({"key": key, "sample_ids": list(sample_ids)}) + "\n")
        handle = super().submit(key, sample_ids, prelabels)
        reached(f"submitted:{key.rsplit('-r', 1)[1].split('-')[0]}")
        return handle


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("state", "dataset", "shapes", "workdir", "submits"):
        parser.add_argument(name, type=Path if name != "dataset" else str)
    args = parser.parse_args()

    from al_object_detection.adapters.dataset.store import import_fiftyone
    from al_object_detection.data.yolo import read_yolo

    fo = import_fiftyone()
    if not fo.dataset_exists(args.dataset):
        FiftyOneStore.open(args.dataset, create=True).add(read_yolo(args.shapes))
    store = FiftyOneStore.open(args.dataset)
    annotator = CountingOracle(store, args.submits)
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
    _add_fault_points(learner)
    learner.run_active_learning()
    print("finished")


def _add_fault_points(learner: ObjectDetectionActiveLearner) -> None:
    engine = learner.engine
    step, set_labels = engine.step, engine.ctx.store.set_labels
    train = engine.ctx.detector.train

    def step_at_boundary() -> Any:
        current = engine.store.current()
        reached("step:none" if current is None else f"step:{current.round}:{current.state}")
        return step()

    def set_labels_then_report(labels: Any, *, round_index: int) -> None:
        set_labels(labels, round_index=round_index)
        reached(f"imported:{round_index}")

    def train_then_report(data_yaml: Path, *, round_index: int) -> Any:
        trained = train(data_yaml, round_index=round_index)
        reached(f"trained:{round_index}")
        return trained

    engine.step = step_at_boundary  # type: ignore[method-assign]
    engine.ctx.store.set_labels = set_labels_then_report  # type: ignore[method-assign]
    engine.ctx.detector.train = train_then_report


if __name__ == "__main__":
    main()
