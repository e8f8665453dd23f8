"""The budget-aware default: typical images while labels are few, then informative ones.

Hacohen et al. (ICML 2022) show that the best strategy flips with the budget: typical points
(TypiClust) win while the labeled set is small, uncertainty and diversity once it is large.
The rule here: with ``L`` labeled images and ``C`` classes, a share
``clip(2 - L / (images_per_class * C), 0, 1)`` of the budget goes to typicality and the rest
to uncertainty + diversity (class-aware uncertainty shortlists ``candidates_factor`` times the
budget, TypiClust picks typical images of uncovered clusters among them). So below
``images_per_class`` labeled images per class it is pure TypiClust, above twice that pure
uncertainty + diversity, and in between a linear blend. The default, 10 images per class,
follows the low-budget regime of the paper (a few to tens of examples per class) and is not
yet measured on detection data: ``bench/label_efficiency.py`` prints the typiclust -
class_aware gap per budget, and where it changes sign is the crossover to set here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.base import BaseSampler, Selection
from al_object_detection.strategies.hybrid import Sampler, TwoStageSampler
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.samplers import ClassAwareSampler, TypiClustSampler


def typical_share(n_labeled: int, n_classes: int, images_per_class: float) -> float:
    """Fraction of a round's budget that goes to typicality (1 at the cold start)."""
    if images_per_class <= 0:
        return 0.0
    return float(np.clip(2.0 - n_labeled / (images_per_class * max(n_classes, 1)), 0.0, 1.0))


@dataclass(frozen=True)
class BudgetAwareSampler(BaseSampler):
    """TypiClust at the cold start, class-aware uncertainty + typical diversity later.

    Needs embeddings for the pool and the labeled set (``Pool.n_labeled`` counts the
    labeled images); see the module docstring for the switching rule.
    """

    images_per_class: float = 10.0
    candidates_factor: float = 5.0
    k_neighbors: int = 20

    def __post_init__(self) -> None:
        if not (math.isfinite(self.images_per_class) and self.images_per_class >= 0):
            raise ValueError(f"images_per_class must be >= 0, got {self.images_per_class}")
        if not (math.isfinite(self.candidates_factor) and self.candidates_factor >= 1):
            raise ValueError(f"candidates_factor must be >= 1, got {self.candidates_factor}")
        if self.k_neighbors < 1:
            raise ValueError(f"k_neighbors must be >= 1, got {self.k_neighbors}")

    def plan(self, pool: Pool) -> Sampler:
        """The budget split this pool's labeled set calls for."""
        typical = TypiClustSampler(k_neighbors=self.k_neighbors)
        informative = TwoStageSampler(
            first=ClassAwareSampler(), second=typical, candidates_factor=self.candidates_factor
        )
        share = typical_share(pool.n_labeled, pool.n_classes, self.images_per_class)
        return Sampler([typical, informative], weights=[share, 1.0 - share])

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        if pool.embeddings is None:
            raise ValueError("BudgetAwareSampler needs image embeddings (Pool.embeddings)")
        return self.plan(pool).choose(pool, budget, rng=rng, taken=taken)
