"""Per-image scores from per-box values laid out in CSR form.

Image ``i`` owns ``values[offsets[i]:offsets[i + 1]]``. Images with no box get
``empty_score``; a NaN box value makes its image's score NaN (ranked last).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from al_object_detection.strategies.arrays import Array

Aggregation = Literal["max", "mean", "sum", "top_k_mean"]
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)


def aggregate(
    values: Array,
    offsets: Array,
    how: str = "max",
    *,
    top_k: int = 3,
    empty_score: float = 1.0,
) -> Array:
    """One float64 score per image: max, mean, sum or mean of the ``top_k`` largest values.

    Sums are accumulated in float64; ``values`` is not copied to float64 first.
    """
    if how not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {how!r}; choose one of {AGGREGATIONS}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    counts = np.diff(offsets)
    has_box = counts > 0
    out = np.full(len(counts), empty_score, dtype=np.float64)
    if not has_box.any():
        return out
    v = np.asarray(values)
    if not np.issubdtype(v.dtype, np.floating):
        v = v.astype(np.float64)
    starts = offsets[:-1][has_box]
    if how == "max":
        out[has_box] = np.maximum.reduceat(v, starts)
    elif how == "sum":
        out[has_box] = np.add.reduceat(v, starts, dtype=np.float64)
    elif how == "mean":
        out[has_box] = np.add.reduceat(v, starts, dtype=np.float64) / counts[has_box]
    else:
        kept = np.minimum(counts[has_box], top_k)
        out[has_box] = _top_k_sum(v, starts, counts[has_box], top_k) / kept
    return out


def _top_k_sum(v: Array, starts: Array, counts: Array, k: int) -> Array:
    """Sum of each non-empty segment's ``k`` largest values: ``k`` max-and-remove passes."""
    work = v.copy()
    total = np.zeros(len(starts), dtype=np.float64)
    for j in range(min(k, int(counts.max()))):
        best = np.maximum.reduceat(work, starts)
        live = counts > j
        total[live] += best[live]
        hits = np.flatnonzero(work == np.repeat(best, counts))
        seg = np.searchsorted(starts, hits, side="right") - 1
        first = np.ones(len(hits), dtype=bool)
        first[1:] = seg[1:] != seg[:-1]
        work[hits[first]] = -np.inf
    return total
