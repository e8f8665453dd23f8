"""The work of each round state, one function per step, through the adapters only.

Each step reads what it needs from the FiftyOne store and returns a plain value; none keeps
state of its own, so a step that is run again after a crash redoes only its own work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from al_object_detection.states.ports import Store
from al_object_detection.strategies import Pool

if TYPE_CHECKING:
    from al_object_detection.adapters.annotation.protocol import Annotator
    from al_object_detection.adapters.detection.evaluation import DetectionMetrics
    from al_object_detection.adapters.detection.protocol import (
        Detector,
        TrainableDetector,
        TrainedModel,
    )


@dataclass
class RoundContext:
    """The adapters one round works through, and the folder it may write in."""

    store: Store
    detector: TrainableDetector
    annotator: Annotator
    workdir: Path
    bootstrap_detector: Detector | None = None  # zero-shot: predicts in round 0 only


def use_latest_model(ctx: RoundContext, model_paths: Sequence[str | None]) -> None:
    """Point the detector at the newest weights a round produced (after a restart too)."""
    trained = [path for path in model_paths if path]
    if trained:
        ctx.detector.use_weights(Path(trained[-1]))


def predict(
    ctx: RoundContext,
    sample_ids: Sequence[str],
    *,
    detector: Detector | None = None,
    only_stale: bool = False,
    progress: bool = True,
) -> int:
    """Predict on ``sample_ids`` (with ``detector``, default the context's) and store the
    boxes, class scores and embeddings; ``only_stale`` skips those the model already did.
    """
    detector = detector or ctx.detector
    model_id = detector.model_id
    if only_stale:
        sample_ids = ctx.store.stale_predictions(sample_ids, model_id)
    paths = ctx.store.filepaths(sample_ids)
    stream = zip(sample_ids, detector.predict(paths, progress=progress), strict=True)
    return ctx.store.write_predictions(stream, detector.classes, model_id=model_id)


def ids_only_pool(sample_ids: Sequence[str]) -> Pool:
    """A pool with ids only: enough for random picks before any model has predicted."""
    empty = np.zeros((0, 1), np.float32)
    return Pool.from_lists(list(sample_ids), [empty] * len(sample_ids), n_classes=1)


def check_samples_exist(ctx: RoundContext, sample_ids: Sequence[str]) -> None:
    """Refuse to go on when picked samples vanished from the dataset."""
    present = set(ctx.store.existing(sample_ids))
    missing = [i for i in sample_ids if i not in present]
    if missing:
        raise LookupError(
            f"{len(missing)} picked samples are no longer in the dataset: {missing[:5]}"
        )


def unlabeled_picks(picked: Sequence[str], labels: Mapping[str, Any]) -> list[str]:
    """Picks the annotators left out (deleted or skipped on the server): they stay in the pool.

    Labels for samples that were never picked are refused.
    """
    extra = sorted(set(labels) - set(picked))
    if extra:
        raise ValueError(f"annotations for {len(extra)} samples that were not picked: {extra[:5]}")
    return sorted(set(picked) - set(labels))


def selection_pool(
    ctx: RoundContext,
    sample_ids: Sequence[str],
    *,
    detector: Detector | None = None,
    class_ap: Mapping[str, float] | None = None,
) -> Pool:
    """What a sampler sees: the pool's scores and embeddings, the labeled set's, and the last
    evaluation's AP per class (``class_ap``, by class name)."""
    detector = detector or ctx.detector
    ap = None
    if class_ap:
        ap = np.array([class_ap.get(name, np.nan) for name in detector.classes], dtype=float)
    scores, offsets, embeddings = ctx.store.prediction_arrays(sample_ids, len(detector.classes))
    labeled = ctx.store.ids("labeled")
    return Pool(
        sample_ids=np.asarray(sample_ids, dtype=object),
        box_scores=scores,
        box_offsets=offsets,
        embeddings=embeddings,
        labeled_embeddings=ctx.store.embeddings(labeled)
        if labeled and embeddings is not None
        else None,
        labeled_class_counts=_class_counts_for(ctx, detector),
        class_ap=ap,
    )


def last_class_ap(rounds: Sequence[Any]) -> dict[str, float]:
    """mAP50-95 per class of the latest evaluated round (validation split), or nothing."""
    for past in reversed(rounds):
        per_class = (past.metrics or {}).get("per_class")
        if per_class:
            return {
                name: float(values["map50_95"])
                for name, values in per_class.items()
                if values.get("map50_95") is not None and not np.isnan(values["map50_95"])
            }
    return {}


def train(ctx: RoundContext, *, round_index: int) -> TrainedModel:
    """Export the labeled and validation splits and retrain the detector on them."""
    export_dir = ctx.workdir / "exports" / f"round_{round_index:03d}"
    data_yaml = ctx.store.export_yolo(export_dir)
    return ctx.detector.train(data_yaml, round_index=round_index)


def evaluate(ctx: RoundContext, *, round_index: int) -> DetectionMetrics:
    """Predict on the validation split and compute COCO mAP there."""
    val_ids = ctx.store.ids("val")
    predict(ctx, val_ids, progress=False)
    return ctx.store.evaluate(val_ids, eval_key=f"round_{round_index:03d}")


def _class_counts_for(ctx: RoundContext, detector: Detector) -> Any:
    """Labeled box counts in the detector's class order (zeros for classes it lacks)."""
    counts = dict(zip(ctx.store.classes, ctx.store.class_counts().tolist(), strict=True))
    return np.array([counts.get(name, 0) for name in detector.classes], dtype=np.int64)
