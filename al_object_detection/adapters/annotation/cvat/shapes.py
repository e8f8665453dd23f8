"""CVAT rectangles <-> FiftyOne boxes.

CVAT stores a rectangle as pixel corners ``[x1, y1, x2, y2]`` (floats) plus a rotation in degrees
around its centre; FiftyOne uses relative ``[x, y, width, height]``. Both directions are plain
float arithmetic on the frame size CVAT reports, with no rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def to_points(box: Sequence[float], width: int, height: int) -> list[float]:
    """Relative ``[x, y, w, h]`` to pixel corners ``[x1, y1, x2, y2]``."""
    x, y, w, h = (float(v) for v in box)
    return [x * width, y * height, (x + w) * width, (y + h) * height]


def to_box(
    points: Sequence[float], width: int, height: int, rotation: float = 0.0
) -> list[float] | None:
    """Pixel corners to relative ``[x, y, w, h]``, clipped to the image; None if empty.

    A rotated rectangle becomes the axis-aligned box that encloses it.
    """
    x1, y1, x2, y2 = (float(v) for v in points)
    if rotation:
        cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        cos, sin = abs(math.cos(math.radians(rotation))), abs(math.sin(math.radians(rotation)))
        extent_x, extent_y = half_w * cos + half_h * sin, half_w * sin + half_h * cos
        x1, y1, x2, y2 = cx - extent_x, cy - extent_y, cx + extent_x, cy + extent_y
    x1, x2 = max(0.0, min(x1, x2)), min(float(width), max(x1, x2))
    y1, y2 = max(0.0, min(y1, y2)), min(float(height), max(y1, y2))
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height]


def prelabel_shape(
    box: Sequence[float], frame: int, label_id: int, width: int, height: int
) -> dict[str, Any]:
    """A rectangle marked as machine-made (``source: auto``), as CVAT's annotations API takes it."""
    return {
        "type": "rectangle",
        "frame": frame,
        "label_id": label_id,
        "points": to_points(box, width, height),
        "occluded": False,
        "z_order": 0,
        "source": "auto",
        "attributes": [],
    }
