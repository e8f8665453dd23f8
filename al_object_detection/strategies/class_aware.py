"""Class-aware uncertainty (after PPAL, Yang et al. 2022): hard and rare classes count more.

Each class gets a weight ``w_c = difficulty_c ** alpha * rarity_c ** beta``, scaled so the
largest weight is 1: ``difficulty_c = 1 - AP_c`` from the last evaluation (classes never
measured count as fully hard) and ``rarity_c`` the inverse-frequency weight of the labeled
boxes (``balance.class_weights``). A box scores ``max_c w_c * h(s_c)``, with ``h`` the binary
entropy of its score for class ``c``: an unsure box of a hard or rare class scores high.
"""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.balance import class_weights
from al_object_detection.strategies.parallel import map_rows
from al_object_detection.strategies.pool import Pool

CHUNK_BOXES = 65536
_LN2 = float(np.log(2.0))


def class_importance(pool: Pool, *, alpha: float = 1.0, beta: float = 1.0) -> Array:
    """Per-class weight in (0, 1] from ``pool.class_ap`` and ``pool.labeled_class_counts``."""
    n = pool.n_classes
    difficulty: Array = np.ones(n)
    if pool.class_ap is not None:
        difficulty = np.where(np.isnan(pool.class_ap), 1.0, 1.0 - pool.class_ap)
    rarity: Array = np.ones(n)
    if pool.labeled_class_counts is not None:
        rarity = class_weights(pool.labeled_class_counts)
    weights = np.maximum(difficulty, 1e-3) ** alpha * rarity**beta
    return np.asarray(weights / weights.max(), dtype=np.float64) if n else weights


def weighted_box_uncertainty(scores: Array, weights: Array) -> Array:
    """``max_c weights_c * h(scores_c)`` per box, in [0, 1]."""
    out = np.empty(len(scores), dtype=np.float32)
    if scores.shape[1] == 0:
        out[:] = 0.0
        return out
    w = weights.astype(np.float32)

    def score(s: Array) -> Array:
        p = np.clip(s, 1e-7, 1 - 1e-7)
        h = -(p * np.log(p) + (1 - p) * np.log1p(-p)) / _LN2
        return np.asarray((h * w).max(axis=1), dtype=np.float32)

    return map_rows(score, scores, out, CHUNK_BOXES)
