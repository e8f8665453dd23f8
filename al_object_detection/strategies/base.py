"""What every sampler shares: argument checks, the ``Selection`` result, score-then-rank, and
the ``Strategy`` protocol the engine asks picks of."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.selection import check_budget, check_rng, check_taken, top_k


@dataclass(frozen=True, eq=False)
class Selection:
    """Picked pool positions, best first, with each pick's score and a one-line reason.

    The score is the strategy's own (uncertainty, rarity, distance to the nearest labeled
    or picked image); NaN for strategies without one (random).
    """

    positions: Array
    scores: Array
    reasons: tuple[str, ...]

    def __post_init__(self) -> None:
        pos = np.asarray(self.positions, dtype=np.int64)
        scores = np.asarray(self.scores, dtype=np.float64)
        if not len(pos) == len(scores) == len(self.reasons):
            raise ValueError("positions, scores and reasons must have the same length")
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "scores", scores)

    def __len__(self) -> int:
        return len(self.positions)

    @classmethod
    def concat(cls, parts: Sequence[Selection]) -> Selection:
        """The picks of ``parts`` one after the other."""
        return cls(
            np.concatenate([np.zeros(0, np.int64), *(p.positions for p in parts)]),
            np.concatenate([np.zeros(0), *(p.scores for p in parts)]),
            tuple(r for p in parts for r in p.reasons),
        )

    def describe(self, pool: Pool) -> list[str]:
        """``"<sample id>: <reason>"`` for each pick."""
        ids = pool.sample_ids[self.positions]
        return [f"{i}: {r}" for i, r in zip(ids.tolist(), self.reasons, strict=True)]


EMPTY = Selection(np.zeros(0, np.int64), np.zeros(0), ())


class Strategy(Protocol):
    """What a round asks of a strategy: picks with their reasons (every sampler is one)."""

    @property
    def needs_predictions(self) -> bool:
        """Whether ``choose`` reads box scores or embeddings (the pool is predicted first)."""
        ...

    def choose(
        self, pool: Pool, budget: int, *, rng: np.random.Generator, taken: Array | None = None
    ) -> Selection:
        """``min(budget, available)`` distinct positions into the pool, best first."""
        ...


@dataclass(frozen=True)
class BaseSampler(ABC):
    """A strategy: ``select`` returns positions, ``choose`` also says why each was picked.

    Both return ``min(budget, available)`` distinct positions into the pool, where
    ``available`` counts the pool images not in ``taken``. ``taken`` holds positions picked
    earlier this round (by another strategy); they are never picked again and diversity
    strategies treat them as labeled. Samplers are frozen dataclasses of their parameters.
    ``needs_predictions`` says whether the pool must be predicted on before ``choose``
    (without predictions a sampler gets a pool of sample ids only).
    """

    @property
    def needs_predictions(self) -> bool:
        """Whether this strategy reads box scores or embeddings (most do)."""
        return True

    def select(self, pool: Pool, budget: int, *, rng: np.random.Generator) -> Array:
        """Distinct int64 positions of the images to label next, best first."""
        return self.choose(pool, budget, rng=rng).positions

    def choose(
        self,
        pool: Pool,
        budget: int,
        *,
        rng: np.random.Generator,
        taken: Array | None = None,
    ) -> Selection:
        """Like :meth:`select`, with each pick's score and reason."""
        budget = check_budget(budget)
        rng = check_rng(rng)
        taken_pos = check_taken(taken, pool.n_images)
        if min(budget, pool.n_images - len(taken_pos)) == 0:
            return EMPTY
        return self._choose(pool, budget, rng, taken_pos)

    @abstractmethod
    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        """Pick ``budget`` > 0 positions, at least one being available."""


class ScoreSampler(BaseSampler):
    """A strategy that scores each image; the best scores are picked."""

    @abstractmethod
    def scores(self, pool: Pool) -> Array:
        """One float score per pool image; higher means label sooner."""

    @abstractmethod
    def reason(self, score: float, n_boxes: int) -> str:
        """Why an image with this score and number of predicted boxes was picked."""

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        scores = self.scores(pool)
        pos = top_k(scores, budget, ids=pool.sample_ids, taken=taken)
        n_boxes = np.diff(pool.box_offsets)[pos]
        picked = scores[pos]
        reasons = tuple(
            self.reason(s, b) for s, b in zip(picked.tolist(), n_boxes.tolist(), strict=True)
        )
        return Selection(pos, picked, reasons)
