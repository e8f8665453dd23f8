"""Sampling strategies: which unlabeled images humans should label next.

Pure, seeded functions over arrays (no model, no database), in small modules:

* ``pool``: the ``Pool`` one round sees (box class scores in CSR form, embeddings, the
  labeled set's embeddings and class counts), checked on construction: NaN/inf or
  out-of-range scores are refused with a message saying where;
* ``uncertainty`` scores each predicted box, ``aggregation`` turns box scores into image
  scores (images with no box scored by evidence, not first), ``balance`` scores boxes by
  how rare their predicted class is in the labels, ``objects`` how surely each box is an
  object (an image's expected object count), ``class_aware`` weighs box uncertainty
  by each class's difficulty (last evaluation's AP) and rarity;
* ``typicality`` is TypiClust: the most typical image of each uncovered k-means cluster;
* ``kcenter`` and ``kmeanspp`` pick diverse images from embeddings, counting labeled ones,
  on top of ``distances`` (chunked float32 BLAS distances) and ``parallel`` (threads);
* ``selection`` checks budgets and ranks scores (NaN last, ties by sample id).

Samplers compose them: ``UncertaintySampler``, ``ClassAwareSampler``, ``DiversitySampler``,
``TypiClustSampler``, ``ClassBalanceSampler``, ``ObjectCountSampler``, ``RandomSampler``,
``Sampler([...], weights)`` (a budget split), ``TwoStageSampler`` (shortlist by uncertainty,
then diversity) and ``BudgetAwareSampler`` (the default: typicality while labels are few, then
uncertainty + diversity; ``budget_aware``). ``needs_predictions`` says whether a sampler reads model
output (random does not, so no pool prediction is run for it). Every sampler has
``select(pool, budget, *, rng)``, returning ``min(budget, pool.n_images)`` distinct int64
positions into the pool, best first, and ``choose(pool, budget, *, rng, taken=None)``,
returning a ``Selection``: the same positions with each pick's score and a one-line reason
(``Selection.describe(pool)`` gives ``"<sample id>: <reason>"`` lines). A negative budget
raises ``ValueError``; budget 0 or an empty pool gives no picks. ``rng`` is a
``numpy.random.Generator``; no global random state is used. ``build_sampler`` builds a
sampler from a config spec (``registry``) and ``sampler_spec`` turns a registered sampler
back into its spec (``spec``).
"""

from al_object_detection.strategies.base import BaseSampler, ScoreSampler, Selection
from al_object_detection.strategies.budget_aware import BudgetAwareSampler
from al_object_detection.strategies.hybrid import Sampler, TwoStageSampler, split_budget
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.registry import StrategyConfigError, available, build_sampler
from al_object_detection.strategies.samplers import (
    ClassAwareSampler,
    ClassBalanceSampler,
    DiversitySampler,
    ObjectCountSampler,
    RandomSampler,
    TypiClustSampler,
    UncertaintySampler,
)
from al_object_detection.strategies.spec import sampler_spec

__all__ = [
    "BaseSampler",
    "BudgetAwareSampler",
    "ClassAwareSampler",
    "ClassBalanceSampler",
    "DiversitySampler",
    "ObjectCountSampler",
    "Pool",
    "RandomSampler",
    "Sampler",
    "ScoreSampler",
    "Selection",
    "StrategyConfigError",
    "TwoStageSampler",
    "TypiClustSampler",
    "UncertaintySampler",
    "available",
    "build_sampler",
    "sampler_spec",
    "split_budget",
]
