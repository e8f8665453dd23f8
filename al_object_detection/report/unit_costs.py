"""What each pool image costs in the round's budget unit: 1 image, its boxes, or its seconds.

Boxes are the model's predictions above the pre-label threshold (what the annotators will be
shown, at most ``max_boxes``); seconds come from the cost model fitted on the rounds so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.report.records import cost_model, load_records

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore


def image_costs(
    store: FiftyOneStore,
    sample_ids: Sequence[str],
    unit: str,
    reports_dir: Path,
    prelabels: PrelabelSettings | None = None,
) -> NDArray[np.float64]:
    """One cost per image of ``sample_ids``, in ``unit`` (images, boxes or seconds); the cost
    model comes from the round records in ``reports_dir``."""
    if unit == "images":
        return np.ones(len(sample_ids))
    boxes = expected_boxes(store, sample_ids, prelabels or PrelabelSettings())
    if unit == "boxes":
        return boxes
    if unit == "seconds":
        model = cost_model(load_records(reports_dir))
        return model.image_seconds(boxes)
    raise ValueError(f"budget unit {unit!r}; allowed: images, boxes, seconds")


def cost_function(
    store: FiftyOneStore, unit: str, reports_dir: Path, prelabels: PrelabelSettings
) -> Callable[[Sequence[str]], NDArray[np.float64]]:
    """``image_costs`` for one project, as the engine calls it (sample ids in, costs out)."""

    def costs(sample_ids: Sequence[str]) -> NDArray[np.float64]:
        return image_costs(store, sample_ids, unit, reports_dir, prelabels)

    return costs


def expected_boxes(
    store: FiftyOneStore, sample_ids: Sequence[str], settings: PrelabelSettings
) -> NDArray[np.float64]:
    """Predicted boxes at or above the pre-label threshold, per image (capped)."""
    field = store.fields.predictions
    if not store.dataset.has_sample_field(field):
        return np.zeros(len(sample_ids))
    view = store.dataset.select(list(sample_ids))  # unordered: FiftyOne's ordered select is
    ids, confidences = view.values(["id", f"{field}.detections.confidence"])  # quadratic
    counts = {
        str(i): sum(1 for c in (scores or ()) if c is None or c >= settings.min_confidence)
        for i, scores in zip(ids, confidences, strict=True)
    }
    found = np.asarray([counts.get(i, 0) for i in sample_ids], dtype=np.float64)
    return np.minimum(found, settings.max_boxes)
