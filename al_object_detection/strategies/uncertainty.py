"""Per-box uncertainty from a detector's class scores; every score lies in [0, 1].

``scores`` is a (B, C) array, one row of class scores per box. The first three methods see
each row as a distribution (normalized to sum 1; an all-zero row counts as uniform). The
``*binary_entropy`` methods treat each class score as its own yes/no probability, as with
YOLO's independent sigmoids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.parallel import map_rows

BoxMethod = Literal["least_confidence", "margin", "entropy", "binary_entropy", "max_binary_entropy"]
BOX_METHODS: tuple[str, ...] = get_args(BoxMethod)
CHUNK_BOXES = 32768
_TINY = np.finfo(np.float32).tiny
_LN2 = np.float32(np.log(2.0))


def _rows(scores: Array) -> tuple[Array, Array]:
    """Scores as float32 and each row's sum, floored at the smallest float32."""
    p = np.asarray(scores, dtype=np.float32)
    return p, np.maximum(p.sum(axis=1), _TINY)


def _xlogx(p: Array) -> Array:
    """``p * log(p)`` elementwise, 0 where ``p`` is 0."""
    out = np.maximum(p, _TINY)
    np.log(out, out=out)
    out *= p
    return out


def least_confidence(scores: Array) -> Array:
    """``1 - max p``, rescaled so a uniform row scores 1."""
    p, total = _rows(scores)
    n = p.shape[1]
    if n < 2:
        return np.zeros(len(p), dtype=np.float32)
    top = np.where(total > _TINY, p.max(axis=1) / total, np.float32(1 / n))
    return np.asarray((1 - top) * (n / (n - 1)), dtype=np.float32)


def margin(scores: Array) -> Array:
    """``1 - (p_first - p_second)``: 1 when the top two classes tie."""
    p, total = _rows(scores)
    if p.shape[1] < 2:
        return np.zeros(len(p), dtype=np.float32)
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(1 - (top2[:, 1] - top2[:, 0]) / total, dtype=np.float32)


def entropy(scores: Array) -> Array:
    """Shannon entropy of the normalized row, divided by ``log C``.

    Uses ``H(p / s) = log s - sum(p log p) / s`` to skip normalizing; an all-zero row
    scores 1.
    """
    p, total = _rows(scores)
    n = p.shape[1]
    if n < 2:
        return np.zeros(len(p), dtype=np.float32)
    h = np.log(total) - _xlogx(p).sum(axis=1) / total
    h = np.where(total > _TINY, h / np.float32(np.log(n)), np.float32(1))
    return np.asarray(np.clip(h, 0, 1), dtype=np.float32)  # clip: float rounding near 0 and 1


def _neg_binary_entropy(scores: Array) -> Array:
    """``p log p + (1 - p) log(1 - p)`` per class: minus the entropy, in nats."""
    p = np.asarray(scores, dtype=np.float32)
    out = _xlogx(p)
    out += _xlogx(1 - p)
    return out


def binary_entropy(scores: Array) -> Array:
    """Mean over classes of each class's yes/no entropy, in bits."""
    n = scores.shape[1]
    if n == 0:
        return np.zeros(len(scores), dtype=np.float32)
    return np.asarray(_neg_binary_entropy(scores).sum(axis=1) / (-n * _LN2), dtype=np.float32)


def max_binary_entropy(scores: Array) -> Array:
    """The largest per-class yes/no entropy of the box, in bits."""
    if scores.shape[1] == 0:
        return np.zeros(len(scores), dtype=np.float32)
    return np.asarray(_neg_binary_entropy(scores).min(axis=1) / -_LN2, dtype=np.float32)


BOX_UNCERTAINTY: dict[str, Callable[[Array], Array]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "binary_entropy": binary_entropy,
    "max_binary_entropy": max_binary_entropy,
}


def box_uncertainty(scores: Array, method: str = "entropy") -> Array:
    """Uncertainty of every box, computed in chunks on all cores; (B,) float32."""
    if method not in BOX_UNCERTAINTY:
        raise ValueError(f"unknown uncertainty method {method!r}; choose one of {BOX_METHODS}")
    if scores.ndim != 2:
        raise ValueError(f"box scores must be 2-D (boxes, classes), got shape {scores.shape}")
    out = np.empty(len(scores), dtype=np.float32)
    return map_rows(BOX_UNCERTAINTY[method], scores, out, CHUNK_BOXES)
