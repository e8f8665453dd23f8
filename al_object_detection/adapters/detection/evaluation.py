"""COCO-style mAP on the validation split, through FiftyOne's own evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DetectionMetrics:
    """mAP at IoU 0.5 and averaged over IoU 0.5:0.95, overall and per class (NaN: no data)."""

    map50: float
    map50_95: float
    per_class: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_images: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "map50": self.map50,
            "map50_95": self.map50_95,
            "n_images": self.n_images,
            "per_class": {k: {"map50": a, "map50_95": b} for k, (a, b) in self.per_class.items()},
        }


def evaluate_detections(
    view: Any, *, pred_field: str, gt_field: str, classes: list[str], eval_key: str | None = None
) -> DetectionMetrics:
    """Evaluate ``pred_field`` against ``gt_field`` on ``view`` (COCO protocol, 101-point AP)."""
    if len(view) == 0:
        raise ValueError("cannot evaluate on an empty validation split")
    results = view.evaluate_detections(
        pred_field,
        gt_field=gt_field,
        method="coco",
        compute_mAP=True,
        classes=classes,
        eval_key=eval_key,
        progress=False,
    )
    precision = np.asarray(results.precision)  # (iou thresholds, classes, recall points)
    iou_50 = int(np.argmin(np.abs(np.asarray(results.iou_threshs) - 0.5)))
    per_class: dict[str, tuple[float, float]] = {}
    for index, name in enumerate(results.classes):
        curves = precision[:, index, :]
        valid = curves[curves[:, 0] > -1] if curves.size else curves
        if valid.size == 0:
            per_class[name] = (float("nan"), float("nan"))
            continue
        per_class[name] = (float(np.mean(curves[iou_50])), float(np.mean(valid)))
    scored = [v for v in per_class.values() if not np.isnan(v[0])]
    map50 = float(np.mean([v[0] for v in scored])) if scored else float("nan")
    map50_95 = float(np.mean([v[1] for v in scored])) if scored else float("nan")
    return DetectionMetrics(map50=map50, map50_95=map50_95, per_class=per_class, n_images=len(view))
