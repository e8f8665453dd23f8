"""The budget-aware default: typical images while labels are few, then informative ones.

Hacohen et al. (ICML 2022) show that the best strategy flips with the budget: typical points
(TypiClust) win while the labeled set is small, uncertainty and diversity once it is large.
The regime is set by labeled *examples per class*, and in detection every labeled box is an
example of its class: 16 images of a dense single-class set (aerial tree tiles, ~13 trees
each) are ~200 examples, far past the cold start, while 16 images of a ten-class set with
~2.5 objects each are ~4 per class. The rule: with ``E`` labeled examples (boxes, from
``Pool.labeled_class_counts``; labeled images when the counts are not known) and ``C``
classes, a share ``clip(2 - E / (examples_per_class * C), 0, 1)`` of the budget goes to
typicality and the rest to uncertainty + diversity (class-aware uncertainty shortlists
``candidates_factor`` times the budget, TypiClust picks typical images of uncovered clusters
among them). Below ``examples_per_class`` per class it is pure TypiClust, above twice that
pure uncertainty + diversity, and in between a linear blend.

Measured (``bench/label_efficiency.py``, mAP50-95 points against random, paired by seed, 90 %
intervals; tables in ``bench/results/``): on deepforest (one class, dense) TypiClust lost at 32
images (-1.5 [-3.6, +0.8]; 5 seeds), and so did the blend that counting images gave (-0.8);
counting boxes gives uncertainty + diversity from the first round: +0.0 [-1.0, +1.2] at 32
images and +0.8 [-0.2, +1.7] at 48 (10 seeds, 5 of them run twice from scratch). On
fashion-longtail (ten classes, ~2.5 objects an image; at most 92 labeled boxes at 32 images)
both rules give TypiClust alone in the first two rounds: +0.3 [-1.5, +2.3] and +0.2 [-1.4, +1.9]
at 32 and 48 images (15 seeds, 10 of them run twice from scratch; the picks are sensitive:
rerunning a seed moves the default's score at 48 images by 4.5 points (sd), random's by 0.4);
class-aware uncertainty (+0.6, -0.5; 5 seeds), TypiClust among images predicted to hold rare
classes (+0.9, -0.6; 11 seeds) and the default on embeddings pooled over the top 5 boxes (-0.6,
+0.3; 15 seeds) did no better, nor did the images with the most predicted rare-class evidence
(+1.0, -0.4; 12 seeds). Run for four rounds, where the rule gives a third of round 3's picks
(134 labeled boxes) and four fifths of round 4's (~180) to uncertainty + diversity, the default
is ahead later: +2.2 [+0.6, +3.7] and +1.5 [-0.5, +3.6] at 64 and 80 images (12 seeds). On
fashion-uniform (the same generator with the classes drawn evenly) TypiClust alone, as the
rule gives, is ahead at both budgets: +1.9 [+0.1, +3.9] and +5.0 [+3.4, +6.7] (8 seeds). Where
the two regimes cross on a dataset of many classes, the threshold (10 examples per class) has
not been measured.
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


def typical_share(n_examples: float, n_classes: int, examples_per_class: float) -> float:
    """Fraction of a round's budget that goes to typicality (1 at the cold start)."""
    if examples_per_class <= 0:
        return 0.0
    per_class = n_examples / (examples_per_class * max(n_classes, 1))
    return float(np.clip(2.0 - per_class, 0.0, 1.0))


def labeled_examples(pool: Pool) -> float:
    """Labeled boxes (every box an example of its class); labeled images without counts."""
    if pool.labeled_class_counts is None:
        return float(pool.n_labeled)
    return float(np.sum(pool.labeled_class_counts))


@dataclass(frozen=True)
class BudgetAwareSampler(BaseSampler):
    """TypiClust at the cold start, class-aware uncertainty + typical diversity later.

    Needs embeddings for the pool and the labeled set; reads ``Pool.labeled_class_counts``
    when there are some. See the module docstring for the switching rule.
    """

    examples_per_class: float = 10.0
    candidates_factor: float = 5.0
    k_neighbors: int = 20

    def __post_init__(self) -> None:
        if not (math.isfinite(self.examples_per_class) and self.examples_per_class >= 0):
            raise ValueError(f"examples_per_class must be >= 0, got {self.examples_per_class}")
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
        share = typical_share(labeled_examples(pool), pool.n_classes, self.examples_per_class)
        return Sampler([typical, informative], weights=[share, 1.0 - share])

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        if pool.embeddings is None:
            raise ValueError("BudgetAwareSampler needs image embeddings (Pool.embeddings)")
        return self.plan(pool).choose(pool, budget, rng=rng, taken=taken)
