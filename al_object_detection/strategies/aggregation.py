"""Per-image scores from per-box values laid out in CSR form.

Image ``i`` owns ``values[offsets[i]:offsets[i + 1]]``. Images with no box get
``empty_score``: a number, or ``"evidence"``: the score of a low-uncertainty image of this
pool (the ``EMPTY_QUANTILE`` quantile of the images with boxes; 0 when none has a box). A
model that sees nothing in an image is usually looking at background, and sometimes missing
objects: such images rank with the confident ones, not first. A NaN box value makes its
image's score NaN (ranked last).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from al_object_detection.strategies.arrays import Array

Aggregation = Literal["max", "mean", "sum", "top_k_mean"]
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
EmptyScore = float | Literal["evidence"]
EMPTY_QUANTILE = 0.1


def aggregate(
    values: Array,
    offsets: Array,
    how: str = "max",
    *,
    top_k: int = 3,
    empty_score: EmptyScore = 1.0,
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
    out = np.zeros(len(counts), dtype=np.float64)
    if has_box.any():
        out[has_box] = _aggregate(values, offsets, counts, has_box, how, top_k)
    out[~has_box] = _empty_value(out[has_box], empty_score)
    return out


def _empty_value(with_boxes: Array, empty_score: EmptyScore) -> float:
    if empty_score != "evidence":
        return float(empty_score)
    finite = with_boxes[np.isfinite(with_boxes)]
    return float(np.quantile(finite, EMPTY_QUANTILE)) if len(finite) else 0.0


def _aggregate(
    values: Array, offsets: Array, counts: Array, has_box: Array, how: str, top_k: int
) -> Array:
    v = np.asarray(values)
    if not np.issubdtype(v.dtype, np.floating):
        v = v.astype(np.float64)
    starts = offsets[:-1][has_box]
    if how == "max":
        return np.asarray(np.maximum.reduceat(v, starts), dtype=np.float64)
    if how == "sum":
        return np.asarray(np.add.reduceat(v, starts, dtype=np.float64))
    if how == "mean":
        return np.asarray(np.add.reduceat(v, starts, dtype=np.float64) / counts[has_box])
    kept = np.minimum(counts[has_box], top_k)
    return np.asarray(_top_k_sum(v, starts, counts[has_box], top_k) / kept)


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
