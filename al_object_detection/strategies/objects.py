"""Object presence: how surely each predicted box is an object, to count an image's objects."""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.parallel import map_rows

CHUNK_BOXES = 65536


def box_presence(scores: Array, min_score: float) -> Array:
    """``max_c score_c`` per box, 0 below ``min_score``: summed over an image's boxes, the
    number of objects it is expected to hold (the low-scored boxes that a low prediction
    threshold keeps for uncertainty would otherwise add up to phantom objects)."""
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be in [0, 1], got {min_score}")
    if scores.ndim != 2:
        raise ValueError(f"box scores must have shape (boxes, classes), got {scores.shape}")
    out = np.empty(len(scores), dtype=np.float32)
    if scores.shape[1] == 0:
        out[:] = 0.0
        return out

    def presence(rows: Array) -> Array:
        best = rows.max(axis=1)
        return np.where(best >= min_score, best, np.float32(0.0))

    return map_rows(presence, scores, out, CHUNK_BOXES)
