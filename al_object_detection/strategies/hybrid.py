"""Strategies made of strategies: a weighted budget split and a two-stage filter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.base import BaseSampler, Selection
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.samplers import DiversitySampler, UncertaintySampler


def split_budget(budget: int, weights: Sequence[float]) -> list[int]:
    """Shares of ``budget`` proportional to ``weights`` that sum to ``budget``.

    Largest-remainder rounding; equal remainders favour the earlier share.
    """
    total = float(sum(weights))
    exact = [budget * w / total for w in weights]
    shares = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: budget - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True, init=False)
class Sampler(BaseSampler):
    """Several strategies sharing one round's budget, e.g. ``Sampler([u, d], weights=[3, 1])``.

    Without weights the budget is split evenly. Each strategy picks its share in order and
    never re-picks what an earlier one chose; a share one cannot fill passes to the next,
    and what is still missing at the end is asked of them all again, in order.
    """

    parts: tuple[BaseSampler, ...]
    weights: tuple[float, ...]

    def __init__(
        self, parts: Sequence[BaseSampler], weights: Sequence[float] | None = None
    ) -> None:
        parts = tuple(parts)
        if not parts:
            raise ValueError("Sampler needs at least one strategy")
        for part in parts:
            if not isinstance(part, BaseSampler):
                raise TypeError(f"Sampler parts must be samplers, got {type(part).__name__}")
        w = tuple(float(x) for x in (weights if weights is not None else [1.0] * len(parts)))
        if len(w) != len(parts):
            raise ValueError(f"got {len(w)} weights for {len(parts)} strategies")
        if not all(math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0, got {list(w)}")
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "weights", w)

    @property
    def needs_predictions(self) -> bool:
        """Whether any part with a share of the budget needs predictions."""
        return any(p.needs_predictions for p, w in zip(self.parts, self.weights, strict=True) if w)

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        want = min(budget, pool.n_images - len(taken))
        picked: list[Selection] = []
        carry = 0
        for part, share in zip(self.parts, split_budget(want, self.weights), strict=True):
            got = self._ask(part, pool, share + carry, rng, taken, picked)
            carry = share + carry - got
        for part in self.parts:
            if carry == 0:
                break
            carry -= self._ask(part, pool, carry, rng, taken, picked)
        return Selection.concat(picked)

    @staticmethod
    def _ask(
        part: BaseSampler,
        pool: Pool,
        budget: int,
        rng: np.random.Generator,
        taken: Array,
        picked: list[Selection],
    ) -> int:
        if budget == 0:
            return 0
        before = np.concatenate([taken, *(p.positions for p in picked)])
        sel = part.choose(pool, budget, rng=rng, taken=before)
        picked.append(sel)
        return len(sel)


@dataclass(frozen=True)
class TwoStageSampler(BaseSampler):
    """Shortlist ``candidates_factor * budget`` images with ``first``, pick with ``second``.

    The default, uncertainty then k-center among the most uncertain, is the usual best
    choice: informative images that are not near-duplicates of each other.
    """

    first: BaseSampler = field(default_factory=UncertaintySampler)
    second: BaseSampler = field(default_factory=DiversitySampler)
    candidates_factor: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.candidates_factor) and self.candidates_factor >= 1):
            raise ValueError(f"candidates_factor must be >= 1, got {self.candidates_factor}")

    @property
    def needs_predictions(self) -> bool:
        """Whether either stage needs predictions."""
        return self.first.needs_predictions or self.second.needs_predictions

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        shortlist = self.first.choose(
            pool, math.ceil(budget * self.candidates_factor), rng=rng, taken=taken
        )
        sub = pool.subset(shortlist.positions, also_labeled=taken)
        final = self.second.choose(sub, budget, rng=rng)
        reasons = tuple(
            f"{r}; shortlisted as #{i + 1} by {shortlist.reasons[i]}"
            for i, r in zip(final.positions.tolist(), final.reasons, strict=True)
        )
        return Selection(shortlist.positions[final.positions], final.scores, reasons)
