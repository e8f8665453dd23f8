"""Greedy k-center (farthest-first) selection, exact and lazy enough for million-image pools.

Each pick is the pool row farthest from its nearest center, where centers are the labeled
rows, the rows already taken this round and the earlier picks. The picks equal those of
the textbook loop (up to float ties), but far fewer distances are computed:

* only rows that might still become the farthest are tracked exactly (an "active" set,
  ordered by a cheap upper bound on each row's distance to the labeled set);
* several picks are made between full updates: the top candidates are updated among
  themselves, and a candidate is taken while it stays at least as far as every row outside
  the candidates can possibly be.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.distances import (
    ROW_BLOCK,
    RowBlock,
    as_float32,
    min_d2,
    nearest_d2_upper_bound,
    sq_norms,
    update_min_d2,
)
from al_object_detection.strategies.parallel import workers

CANDIDATES = 4096


def kcenter_greedy(
    embeddings: Array,
    budget: int,
    *,
    labeled: Array | None = None,
    taken: Array | None = None,
) -> tuple[Array, Array]:
    """Pick up to ``budget`` rows of ``embeddings`` by greedy k-center.

    ``labeled`` rows and the pool rows at positions ``taken`` count as centers and ``taken``
    rows are never picked. With no center at all, the first pick is the row farthest from
    the pool mean. Returns the picked positions (int64, in pick order) and each pick's
    distance to its nearest center when it was picked (inf for that first pick).
    """
    x = as_float32(embeddings)
    taken_pos = np.unique(np.asarray(taken if taken is not None else [], dtype=np.int64))
    k = min(budget, len(x) - len(taken_pos))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    dim = x.shape[1]
    reference = np.concatenate(
        [as_float32(labeled if labeled is not None else np.zeros((0, dim))), x[taken_pos]]
    )
    with workers() as pool:
        greedy = _LazyGreedy(pool, x, reference, taken_pos)
        return greedy.run(k)


class _LazyGreedy:
    """State of one greedy k-center run; rows are kept sorted by their upper bound."""

    def __init__(self, pool: Executor, x: Array, reference: Array, taken: Array) -> None:
        self.pool, self.x = pool, x
        self.norms = sq_norms(x)
        self.picks: list[int] = []
        self.pick_d2: list[float] = []
        self.in_reference = 0  # leading picks already part of ``reference``
        if len(reference) == 0:
            mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
            first = int(np.argmax(self.norms - 2.0 * (x @ mean)))  # farthest from the mean
            self.picks.append(first)
            self.pick_d2.append(np.inf)
            reference = x[[first]]
            self.in_reference = 1
            bound = min_d2(pool, x, self.norms, reference)
        else:
            bound = nearest_d2_upper_bound(pool, x, self.norms, reference)
        self.reference = reference
        bound[taken] = -np.inf
        bound[self.picks] = -np.inf
        self.order = np.argsort(-bound, kind="stable")
        self.bound = bound[self.order]
        self.live = len(x) - len(taken) - len(self.picks)
        self.d2 = np.full(len(x), -np.inf, dtype=np.float32)
        self.blocks: list[RowBlock] = []
        self.active = 0

    def run(self, k: int) -> tuple[Array, Array]:
        """Pick until ``k`` rows are chosen."""
        self._activate(min(self.live, max(4 * k, 16 * ROW_BLOCK)))
        while len(self.picks) < k:
            batch = self._pick_batch(k - len(self.picks))
            if len(batch):
                update_min_d2(self.pool, self.blocks, self.x[self.order[batch]])
                self.d2[batch] = -np.inf
            best = float(self.d2[: self.active].max()) if self.active else -np.inf
            if self.active < self.live and best < self.bound[self.active]:
                needed = int(np.searchsorted(-self.bound, -best, side="right"))
                self._activate(min(self.live, max(needed, self.active * 3 // 2)))
        return np.asarray(self.picks, dtype=np.int64), np.sqrt(np.asarray(self.pick_d2))

    def _activate(self, upto: int) -> None:
        """Track rows ``active:upto`` exactly from now on."""
        centers = np.concatenate([self.reference, self.x[self.picks[self.in_reference :]]])
        fresh = []
        for s in range(self.active, upto, ROW_BLOCK):
            rows = self.order[s : min(s + ROW_BLOCK, upto)]
            self.d2[s : s + len(rows)] = np.inf
            fresh.append(RowBlock(self.x[rows], self.norms[rows], self.d2[s : s + len(rows)]))
        update_min_d2(self.pool, fresh, centers)
        self.blocks += fresh
        self.active = upto

    def _pick_batch(self, need: int) -> Array:
        """The next greedy picks that are provably exact, as indices into the sorted order."""
        d2 = self.d2[: self.active]
        outside = self.bound[self.active] if self.active < self.live else -np.inf
        if len(d2) > CANDIDATES:
            kth = len(d2) - CANDIDATES - 1
            part = np.argpartition(d2, kth)
            cand = part[kth + 1 :]
            outside = max(outside, float(d2[part[kth]]))
        else:
            cand = np.arange(len(d2))
        cd2 = d2[cand].copy()
        xc = self.x[self.order[cand]]
        nc = self.norms[self.order[cand]]
        chosen: list[int] = []
        while len(chosen) < need:
            j = int(np.argmax(cd2))
            if cd2[j] == -np.inf or cd2[j] < outside:
                break
            chosen.append(j)
            self.picks.append(int(self.order[cand[j]]))
            self.pick_d2.append(float(cd2[j]))
            cd2[j] = -np.inf
            dj = nc + nc[j] - 2.0 * (xc @ xc[j])
            np.minimum(cd2, np.maximum(dj, 0.0), out=cd2)
        return cand[np.asarray(chosen, dtype=np.int64)]
