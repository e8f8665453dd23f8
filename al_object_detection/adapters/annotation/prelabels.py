"""Which predicted boxes are sent to annotators as pre-labels (shared by CVAT and Label Studio)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PrelabelSettings:
    """Pre-label knobs: a confidence threshold and a cap on boxes per image."""

    min_confidence: float = 0.25
    max_boxes: int = 100
    model_version: str = "al_object_detection"

    def select(self, detections: Any, classes: Sequence[str]) -> list[Any]:
        """The boxes of ``detections`` (FiftyOne ``Detections`` or None) worth pre-labelling.

        Boxes under the threshold or with a label outside ``classes`` are dropped; the most
        confident ``max_boxes`` are kept. A box without a confidence counts as certain.
        """
        if detections is None:
            return []
        known = set(classes)
        kept = [
            d
            for d in detections.detections
            if d.label in known and _confidence(d) >= self.min_confidence
        ]
        kept.sort(key=_confidence, reverse=True)
        return kept[: self.max_boxes]


def _confidence(detection: Any) -> float:
    value = detection.confidence
    return 1.0 if value is None else float(value)
