"""The single strategies: uncertainty, class-aware uncertainty, diversity, typicality,
class balance, object count and random."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from al_object_detection.strategies.aggregation import (
    AGGREGATIONS,
    Aggregation,
    EmptyScore,
    aggregate,
)
from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.balance import box_rarity, class_weights
from al_object_detection.strategies.base import BaseSampler, ScoreSampler, Selection
from al_object_detection.strategies.class_aware import class_importance, weighted_box_uncertainty
from al_object_detection.strategies.kcenter import kcenter_greedy
from al_object_detection.strategies.kmeanspp import kmeanspp
from al_object_detection.strategies.objects import box_presence
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.selection import random_k
from al_object_detection.strategies.typicality import typiclust
from al_object_detection.strategies.uncertainty import BOX_METHODS, BoxMethod, box_uncertainty

DiversityMethod = Literal["kcenter", "kmeans++"]
DIVERSITY_METHODS: tuple[str, ...] = get_args(DiversityMethod)


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def _check_aggregation(aggregation: str, top_k: int, empty_score: EmptyScore) -> None:
    _one_of("aggregation", aggregation, AGGREGATIONS)
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if isinstance(empty_score, str):
        _one_of("empty_score", empty_score, ("evidence",))
    elif math.isnan(empty_score):
        raise ValueError("empty_score must be a number, ±inf or 'evidence', not NaN")


def _per_image(
    per_box: Array, pool: Pool, aggregation: str, top_k: int, empty_score: EmptyScore
) -> Array:
    return aggregate(per_box, pool.box_offsets, aggregation, top_k=top_k, empty_score=empty_score)


def _box_reason(what: str, n_boxes: int) -> str:
    return f"{what} (no box predicted)" if n_boxes == 0 else f"{what} over {n_boxes} boxes"


@dataclass(frozen=True)
class UncertaintySampler(ScoreSampler):
    """Images whose predicted boxes the model is least sure about.

    Each box is scored by ``method`` (see ``uncertainty.py``), each image by ``aggregation``
    over its boxes; an image with no box scores ``empty_score`` (default ``"evidence"``: like
    a low-uncertainty image of the pool, see ``aggregation.py``).
    """

    method: BoxMethod = "entropy"
    aggregation: Aggregation = "max"
    top_k: int = 3
    empty_score: EmptyScore = "evidence"

    def __post_init__(self) -> None:
        _one_of("method", self.method, BOX_METHODS)
        _check_aggregation(self.aggregation, self.top_k, self.empty_score)

    def scores(self, pool: Pool) -> Array:
        """Uncertainty of each pool image, in [0, 1] (or ``empty_score``)."""
        per_box = box_uncertainty(pool.box_scores, self.method)
        return _per_image(per_box, pool, self.aggregation, self.top_k, self.empty_score)

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"uncertainty entropy/max = 0.8123 over 4 boxes"``."""
        return _box_reason(f"uncertainty {self.method}/{self.aggregation} = {score:.4f}", n_boxes)


@dataclass(frozen=True)
class ClassAwareSampler(ScoreSampler):
    """Uncertainty weighted by how hard (last evaluation) and rare (labels) each class is.

    See ``class_aware.py``; ``alpha`` and ``beta`` weigh difficulty and rarity. Images are
    scored by ``aggregation`` over their boxes, images with no box by ``empty_score``.
    """

    alpha: float = 1.0
    beta: float = 1.0
    aggregation: Aggregation = "top_k_mean"
    top_k: int = 3
    empty_score: EmptyScore = "evidence"

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        _check_aggregation(self.aggregation, self.top_k, self.empty_score)

    def scores(self, pool: Pool) -> Array:
        """Class-weighted uncertainty of each pool image, in [0, 1] (or ``empty_score``)."""
        weights = class_importance(pool, alpha=self.alpha, beta=self.beta)
        per_box = weighted_box_uncertainty(pool.box_scores, weights)
        return _per_image(per_box, pool, self.aggregation, self.top_k, self.empty_score)

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"class-aware uncertainty top_k_mean = 0.6100 over 3 boxes"``."""
        return _box_reason(f"class-aware uncertainty {self.aggregation} = {score:.4f}", n_boxes)


@dataclass(frozen=True)
class ClassBalanceSampler(ScoreSampler):
    """Images predicted to hold classes that are rare among the labeled boxes.

    Needs ``pool.labeled_class_counts``. Each box scores ``max_c score_c * w_c`` with the
    inverse-frequency weights of ``balance.class_weights``; images are scored by
    ``aggregation`` over their boxes, images with no box by ``empty_score``.
    """

    smoothing: float = 1.0
    aggregation: Aggregation = "max"
    top_k: int = 3
    empty_score: float = 0.0

    def __post_init__(self) -> None:
        if not self.smoothing > 0:
            raise ValueError(f"smoothing must be > 0, got {self.smoothing}")
        _check_aggregation(self.aggregation, self.top_k, self.empty_score)

    def scores(self, pool: Pool) -> Array:
        """Rarity of each pool image, in [0, 1] (or ``empty_score``)."""
        if pool.labeled_class_counts is None:
            raise ValueError(
                "ClassBalanceSampler needs the labeled set's per-class box counts "
                "(Pool.labeled_class_counts)"
            )
        weights = class_weights(pool.labeled_class_counts, smoothing=self.smoothing)
        per_box = box_rarity(pool.box_scores, weights)
        return _per_image(per_box, pool, self.aggregation, self.top_k, self.empty_score)

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"rare-class score max = 0.9000 over 2 boxes"``."""
        return _box_reason(f"rare-class score {self.aggregation} = {score:.4f}", n_boxes)


@dataclass(frozen=True)
class ObjectCountSampler(ScoreSampler):
    """Images predicted to hold the most objects: the most boxes to label per image.

    Each image scores the sum, over its boxes scored at least ``min_score``, of the box's top
    class score (``objects.py``): its expected number of objects. For pools where an image
    costs more than its boxes; at 16-48 labeled images its picks held few more boxes than
    random's (the early model counts poorly) and did not beat random (README).
    """

    min_score: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")

    def scores(self, pool: Pool) -> Array:
        """Expected objects in each pool image (0 with no box)."""
        per_box = box_presence(pool.box_scores, self.min_score)
        return _per_image(per_box, pool, "sum", 1, 0.0)

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"expected objects = 3.41 over 12 boxes"``."""
        return _box_reason(f"expected objects = {score:.2f}", n_boxes)


@dataclass(frozen=True)
class DiversitySampler(BaseSampler):
    """Images that cover the embedding space, counting labeled images as covered.

    ``"kcenter"``: greedy k-center, each pick the image farthest from every labeled or
    already picked one (deterministic). ``"kmeans++"``: each pick drawn with probability
    proportional to that squared distance (uses ``rng``).
    """

    method: DiversityMethod = "kcenter"

    def __post_init__(self) -> None:
        _one_of("method", self.method, DIVERSITY_METHODS)

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        if pool.embeddings is None:
            raise ValueError("DiversitySampler needs image embeddings (Pool.embeddings)")
        if self.method == "kcenter":
            pos, dist = kcenter_greedy(
                pool.embeddings, budget, labeled=pool.labeled_embeddings, taken=taken
            )
        else:
            pos, dist = kmeanspp(
                pool.embeddings, budget, rng=rng, labeled=pool.labeled_embeddings, taken=taken
            )
        reasons = tuple(
            f"{self.method}: {d:.4g} from the nearest labeled or picked image"
            if math.isfinite(d)
            else f"{self.method}: first pick, nothing labeled yet"
            for d in dist.tolist()
        )
        return Selection(pos, dist, reasons)


@dataclass(frozen=True)
class TypiClustSampler(BaseSampler):
    """The most typical image of each of the largest clusters no labeled image covers.

    TypiClust (see ``typicality.py``): k-means into ``labeled + budget`` clusters of the
    embeddings; typicality from the ``k_neighbors`` nearest neighbours within a cluster.
    The cold-start strategy: at small budgets it beats uncertainty and k-center.
    """

    k_neighbors: int = 20

    def __post_init__(self) -> None:
        if self.k_neighbors < 1:
            raise ValueError(f"k_neighbors must be >= 1, got {self.k_neighbors}")

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        if pool.embeddings is None:
            raise ValueError("TypiClustSampler needs image embeddings (Pool.embeddings)")
        pos, typical, sizes = typiclust(
            pool.embeddings,
            budget,
            rng=rng,
            labeled=pool.labeled_embeddings,
            taken=taken,
            k_neighbors=self.k_neighbors,
        )
        reasons = tuple(
            f"typicality {t:.4g}, most typical of a cluster of {n} images"
            for t, n in zip(typical.tolist(), sizes.tolist(), strict=True)
        )
        return Selection(pos, typical, reasons)


@dataclass(frozen=True)
class RandomSampler(BaseSampler):
    """Images drawn uniformly at random with the given generator (needs no predictions)."""

    @property
    def needs_predictions(self) -> bool:
        """Random picks use no model output."""
        return False

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        pos = random_k(pool.n_images, budget, rng=rng, taken=taken)
        return Selection(pos, np.full(len(pos), np.nan), ("random",) * len(pos))
