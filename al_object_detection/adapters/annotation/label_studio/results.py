"""Label Studio rectangles <-> FiftyOne boxes, and the labeling config built from the classes.

Label Studio keeps a rectangle as percentages of the image (``x``, ``y``, ``width``, ``height``
in 0..100) with a rotation in degrees around its top-left corner; FiftyOne uses fractions
``[x, y, w, h]``. Unrotated boxes inside the image convert with one multiplication or division.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

FROM_NAME, TO_NAME = "label", "image"


def label_config(classes: Sequence[str]) -> str:
    """A RectangleLabels config over one image, one label per class."""
    labels = "".join(f"<Label value={quoteattr(name)}/>" for name in classes)
    return (
        f'<View><Image name="{TO_NAME}" value="${TO_NAME}"/>'
        f'<RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">{labels}</RectangleLabels></View>'
    )


def prediction(boxes: Sequence[Any], model_version: str) -> dict[str, Any]:
    """FiftyOne detections as one Label Studio prediction (the pre-labels of a task)."""
    results, scores = [], []
    for index, box in enumerate(boxes):
        x, y, w, h = (float(v) * 100 for v in box.bounding_box)
        score = 1.0 if box.confidence is None else float(box.confidence)
        scores.append(score)
        results.append(
            {
                "id": f"prelabel-{index}",
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "rectanglelabels",
                "value": {
                    "x": x,
                    "y": y,
                    "width": w,
                    "height": h,
                    "rotation": 0,
                    "rectanglelabels": [box.label],
                },
                "score": score,
            }
        )
    return {
        "model_version": model_version,
        "score": min(scores) if scores else 1.0,
        "result": results,
    }


def result_box(item: Mapping[str, Any]) -> tuple[str, list[float]] | None:
    """(label, relative box) of one annotation result; None if it is not one of our rectangles."""
    if item.get("type") != "rectanglelabels" or item.get("from_name") != FROM_NAME:
        return None
    value = item["value"]
    labels = value.get("rectanglelabels") or ()
    if not labels:
        return None
    box = [float(value[k]) / 100 for k in ("x", "y", "width", "height")]
    rotation = float(value.get("rotation") or 0.0)
    if rotation:
        box = _enclosing(box, rotation, item.get("original_width"), item.get("original_height"))
    clipped = _clipped(box)
    return None if clipped is None else (str(labels[0]), clipped)


def _enclosing(
    box: list[float], rotation: float, width: float | None, height: float | None
) -> list[float]:
    """The axis-aligned box around a rectangle turned about its top-left corner (in pixels)."""
    px, py = float(width or 1), float(height or 1)
    x, y, w, h = box[0] * px, box[1] * py, box[2] * px, box[3] * py
    cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    xs = [x, x + w * cos, x - h * sin, x + w * cos - h * sin]
    ys = [y, y + w * sin, y + h * cos, y + w * sin + h * cos]
    return [min(xs) / px, min(ys) / py, (max(xs) - min(xs)) / px, (max(ys) - min(ys)) / py]


def _clipped(box: list[float]) -> list[float] | None:
    x, y, w, h = box
    if x >= 0 and y >= 0 and x + w <= 1 and y + h <= 1:
        return box if w > 0 and h > 0 else None
    x1, y1, x2, y2 = max(0.0, x), max(0.0, y), min(1.0, x + w), min(1.0, y + h)
    return [x1, y1, x2 - x1, y2 - y1] if x2 > x1 and y2 > y1 else None
