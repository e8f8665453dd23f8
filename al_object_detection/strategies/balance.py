"""Class rarity: how strongly a box is predicted to hold a class that is rare in the labels."""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.parallel import map_rows

CHUNK_BOXES = 65536


def class_weights(labeled_counts: Array, *, smoothing: float = 1.0) -> Array:
    """Inverse-frequency weight per class, scaled so the rarest class weighs 1.

    ``w_c = (min_n + smoothing) / (n_c + smoothing)``: a class with no labeled box weighs 1
    and one with many boxes weighs close to 0.
    """
    counts = np.asarray(labeled_counts, dtype=np.float64)
    if counts.ndim != 1 or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("labeled class counts must be a 1-D array of finite counts >= 0")
    if not smoothing > 0:
        raise ValueError(f"smoothing must be > 0, got {smoothing}")
    if len(counts) == 0:
        return counts
    return np.asarray((counts.min() + smoothing) / (counts + smoothing))


def box_rarity(scores: Array, weights: Array) -> Array:
    """``max_c score_c * w_c`` per box, in [0, 1]: a confident rare-class box scores near 1."""
    if scores.ndim != 2 or scores.shape[1] != len(weights):
        raise ValueError(
            f"box scores must have shape (boxes, {len(weights)}) to match the class weights, "
            f"got {scores.shape}"
        )
    out = np.empty(len(scores), dtype=np.float32)
    if scores.shape[1] == 0:
        out[:] = 0.0
        return out
    w = weights.astype(np.float32)
    return map_rows(lambda s: (s * w).max(axis=1), scores, out, CHUNK_BOXES)
