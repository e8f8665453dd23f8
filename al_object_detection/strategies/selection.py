"""Budget checks and ranking shared by every strategy: heuristics only score, this picks.

Ranking rules: higher scores first; ``+inf`` ranks above every number; NaN ranks as ``-inf``
(a broken score is never preferred over a real one); ties go to the smaller sample id, so
the result does not depend on the pool's order.
"""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies.arrays import Array


def check_budget(budget: object) -> int:
    """``budget`` as an int, or a clear error if it is not a count."""
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer):
        raise TypeError(f"budget must be an int, got {type(budget).__name__} {budget!r}")
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    return int(budget)


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` itself, or a clear error if it is not a seeded ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_taken(taken: Array | None, n: int) -> Array:
    """Sorted distinct int64 positions already picked this round (all within ``0..n-1``)."""
    if taken is None:
        return np.zeros(0, dtype=np.int64)
    pos = np.unique(np.asarray(taken, dtype=np.int64))
    if len(pos) and (pos[0] < 0 or pos[-1] >= n):
        raise ValueError(f"taken positions must lie in 0..{n - 1}, got {pos[0]}..{pos[-1]}")
    return pos


def available(n: int, taken: Array) -> Array:
    """Positions ``0..n-1`` not in ``taken``."""
    mask = np.ones(n, dtype=bool)
    mask[taken] = False
    return np.flatnonzero(mask)


def clean_scores(scores: Array) -> Array:
    """float64 copy of ``scores`` with NaN replaced by ``-inf``."""
    out = np.array(scores, dtype=np.float64)
    out[np.isnan(out)] = -np.inf
    return out


def top_k(
    scores: Array,
    k: int,
    *,
    ids: Array,
    taken: Array | None = None,
) -> Array:
    """Positions of the ``k`` best scores, best first, skipping ``taken`` positions.

    Returns fewer than ``k`` positions only when fewer are available.
    """
    s = clean_scores(scores)
    if s.ndim != 1 or len(s) != len(ids):
        raise ValueError(f"scores must have shape ({len(ids)},), got {s.shape}")
    pos = available(len(s), check_taken(taken, len(s)))
    k = min(check_budget(k), len(pos))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    s_avail = s[pos]
    cutoff = -np.partition(-s_avail, k - 1)[k - 1]
    above = pos[s_avail > cutoff]
    tied = pos[s_avail == cutoff]
    tied = tied[_id_order(ids[tied])[: k - len(above)]]
    chosen = np.concatenate([above, tied])
    return np.asarray(chosen[np.lexsort((_id_rank(ids[chosen]), -s[chosen]))], dtype=np.int64)


def random_k(n: int, k: int, *, rng: np.random.Generator, taken: Array | None = None) -> Array:
    """``k`` distinct positions drawn uniformly from those not taken (fewer if fewer left)."""
    pos = available(n, check_taken(taken, n))
    k = min(check_budget(k), len(pos))
    return rng.choice(pos, size=k, replace=False).astype(np.int64)


def _id_order(ids: Array) -> Array:
    return np.argsort(ids.astype(str), kind="stable")


def _id_rank(ids: Array) -> Array:
    rank = np.empty(len(ids), dtype=np.int64)
    rank[_id_order(ids)] = np.arange(len(ids))
    return rank
