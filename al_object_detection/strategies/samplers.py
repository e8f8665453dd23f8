"""The single strategies: uncertainty, diversity, class balance and random."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from al_object_detection.strategies.aggregation import AGGREGATIONS, Aggregation, aggregate
from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.balance import box_rarity, class_weights
from al_object_detection.strategies.base import BaseSampler, ScoreSampler, Selection
from al_object_detection.strategies.kcenter import kcenter_greedy
from al_object_detection.strategies.kmeanspp import kmeanspp
from al_object_detection.strategies.pool import Pool
from al_object_detection.strategies.selection import random_k
from al_object_detection.strategies.uncertainty import BOX_METHODS, BoxMethod, box_uncertainty

DiversityMethod = Literal["kcenter", "kmeans++"]
DIVERSITY_METHODS: tuple[str, ...] = get_args(DiversityMethod)


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def _check_aggregation(aggregation: str, top_k: int, empty_score: float) -> None:
    _one_of("aggregation", aggregation, AGGREGATIONS)
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if math.isnan(empty_score):
        raise ValueError("empty_score must be a number or ±inf, not NaN")


@dataclass(frozen=True)
class UncertaintySampler(ScoreSampler):
    """Images whose predicted boxes the model is least sure about.

    Each box is scored by ``method`` (see ``uncertainty.py``), each image by ``aggregation``
    over its boxes; an image with no box scores ``empty_score`` (default 1.0, the maximum:
    an image where the model sees nothing is often the most informative).
    """

    method: BoxMethod = "entropy"
    aggregation: Aggregation = "max"
    top_k: int = 3
    empty_score: float = 1.0

    def __post_init__(self) -> None:
        _one_of("method", self.method, BOX_METHODS)
        _check_aggregation(self.aggregation, self.top_k, self.empty_score)

    def scores(self, pool: Pool) -> Array:
        """Uncertainty of each pool image, in [0, 1] (or ``empty_score``)."""
        per_box = box_uncertainty(pool.box_scores, self.method)
        return aggregate(
            per_box,
            pool.box_offsets,
            self.aggregation,
            top_k=self.top_k,
            empty_score=self.empty_score,
        )

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"uncertainty entropy/max = 0.8123 over 4 boxes"``."""
        what = f"uncertainty {self.method}/{self.aggregation} = {score:.4f}"
        return f"{what} (no box predicted)" if n_boxes == 0 else f"{what} over {n_boxes} boxes"


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
        return aggregate(
            per_box,
            pool.box_offsets,
            self.aggregation,
            top_k=self.top_k,
            empty_score=self.empty_score,
        )

    def reason(self, score: float, n_boxes: int) -> str:
        """E.g. ``"rare-class score max = 0.9000 over 2 boxes"``."""
        what = f"rare-class score {self.aggregation} = {score:.4f}"
        return f"{what} (no box predicted)" if n_boxes == 0 else f"{what} over {n_boxes} boxes"


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
class RandomSampler(BaseSampler):
    """Images drawn uniformly at random with the given generator."""

    def _choose(self, pool: Pool, budget: int, rng: np.random.Generator, taken: Array) -> Selection:
        pos = random_k(pool.n_images, budget, rng=rng, taken=taken)
        return Selection(pos, np.full(len(pos), np.nan), ("random",) * len(pos))
