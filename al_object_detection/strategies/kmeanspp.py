"""k-means++ seeding (D² sampling) that counts labeled rows as centers already placed.

Each pick is drawn with probability proportional to its squared distance to the nearest
center (labeled rows, rows taken this round, earlier picks). To avoid a full pass per pick,
draws come from a stale upper bound of those distances and are accepted with probability
``true / bound``: rejection sampling, so every pick follows the exact D² distribution.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.distances import (
    EXACT_CENTERS,
    as_float32,
    nearest_d2_upper_bound,
    split_rows,
    sq_norms,
    update_min_d2,
)
from al_object_detection.strategies.parallel import workers

DRAWS = 256  # candidates drawn at once; their exact distances come from one matrix product
MIN_ACCEPT = 0.5  # refresh the bounds once fewer draws than this are accepted


def kmeanspp(
    embeddings: Array,
    budget: int,
    *,
    rng: np.random.Generator,
    labeled: Array | None = None,
    taken: Array | None = None,
) -> tuple[Array, Array]:
    """Pick up to ``budget`` rows by D² sampling around ``labeled`` and ``taken`` rows.

    With no center at all, the first pick is uniform. Rows that coincide with centers have
    probability 0; once only such rows remain, the rest are drawn uniformly. Returns the
    positions (int64, pick order) and each pick's distance to its nearest center.
    """
    x = as_float32(embeddings)
    taken_pos = np.unique(np.asarray(taken if taken is not None else [], dtype=np.int64))
    k = min(budget, len(x) - len(taken_pos))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    reference = np.concatenate(
        [as_float32(labeled if labeled is not None else np.zeros((0, x.shape[1]))), x[taken_pos]]
    )
    with workers() as pool:
        return _D2Sampler(pool, x, reference, taken_pos, rng).run(k)


class _D2Sampler:
    """State of one seeding run: distance bounds to the reference set and to the picks."""

    def __init__(
        self,
        pool: Executor,
        x: Array,
        reference: Array,
        taken: Array,
        rng: np.random.Generator,
    ) -> None:
        self.pool, self.x, self.rng = pool, x, rng
        self.norms = sq_norms(x)
        self.open = np.ones(len(x), dtype=bool)
        self.open[taken] = False
        self.picks: list[int] = []
        self.pick_d2: list[float] = []
        if len(reference) == 0:
            first = int(rng.choice(np.flatnonzero(self.open)))
            self.picks.append(first)
            self.pick_d2.append(np.inf)
            self.open[first] = False
            reference = x[[first]]
        self.reference, self.ref_norms = reference, sq_norms(reference)
        self.ref_d2 = nearest_d2_upper_bound(pool, x, self.norms, reference)
        self.ref_exact = np.full(len(x), len(reference) <= EXACT_CENTERS)
        self.new_d2 = np.full(len(x), np.inf, dtype=np.float32)  # to picks of past batches
        self.new_blocks = split_rows(x, self.norms, self.new_d2)

    def run(self, k: int) -> tuple[Array, Array]:
        """Pick until ``k`` rows are chosen."""
        while len(self.picks) < k:
            bound = np.where(self.open, np.minimum(self.ref_d2, self.new_d2), 0.0)
            cum = np.cumsum(bound, dtype=np.float64)
            if not cum[-1] > 0:  # every open row sits on a center
                rest = self.rng.choice(np.flatnonzero(self.open), k - len(self.picks), False)
                self.picks += rest.tolist()
                self.pick_d2 += [0.0] * len(rest)
                break
            batch = self._batch(bound, cum, k - len(self.picks))
            self.picks += batch
            self.open[batch] = False
            update_min_d2(self.pool, self.new_blocks, self.x[batch])
        return np.asarray(self.picks, dtype=np.int64), np.sqrt(np.asarray(self.pick_d2))

    def _batch(self, bound: Array, cum: Array, need: int) -> list[int]:
        """Picks drawn from ``bound`` and accepted with probability ``true d² / bound``."""
        batch: list[int] = []
        tries = 0
        while len(batch) < need and (tries < DRAWS or len(batch) >= MIN_ACCEPT * tries):
            draws = np.searchsorted(cum, self.rng.random(DRAWS) * cum[-1], side="right")
            draws = np.minimum(draws, len(cum) - 1)
            self._make_exact(draws)
            for i, u in zip(draws.tolist(), self.rng.random(DRAWS).tolist(), strict=True):
                tries += 1
                d2 = min(float(self.ref_d2[i]), float(self.new_d2[i]))
                if batch:
                    d2 = min(d2, float(((self.x[batch] - self.x[i]) ** 2).sum(axis=1).min()))
                if u * bound[i] < d2:
                    batch.append(i)
                    self.pick_d2.append(d2)
                    if len(batch) == need:
                        break
        return batch

    def _make_exact(self, rows: Array) -> None:
        """Replace the bound to the reference set by the exact distance for ``rows``."""
        fix = rows[~self.ref_exact[rows]]
        d2 = (
            self.norms[fix, None] + self.ref_norms[None, :] - 2.0 * (self.x[fix] @ self.reference.T)
        )
        self.ref_d2[fix] = np.maximum(d2, 0.0).min(axis=1)
        self.ref_exact[fix] = True
