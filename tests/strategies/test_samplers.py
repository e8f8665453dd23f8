"""Single strategies: what they pick, and the shared edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import (
    BaseSampler,
    ClassAwareSampler,
    ClassBalanceSampler,
    DiversitySampler,
    Pool,
    RandomSampler,
    Sampler,
    TwoStageSampler,
    UncertaintySampler,
)

from .helpers import random_pool

ALL = [
    UncertaintySampler(),
    UncertaintySampler(method="max_binary_entropy", aggregation="top_k_mean"),
    ClassBalanceSampler(),
    DiversitySampler(),
    DiversitySampler(method="kmeans++"),
    RandomSampler(),
    Sampler([UncertaintySampler(), DiversitySampler()]),
    TwoStageSampler(),
]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_uncertainty_picks_the_least_sure_images() -> None:
    pool = Pool.from_lists(
        ["sure", "unsure", "middling"],
        [np.array([[0.99, 0.01]]), np.array([[0.5, 0.5]]), np.array([[0.8, 0.2]])],
        n_classes=2,
    )
    assert UncertaintySampler().select(pool, 2, rng=_rng()).tolist() == [1, 2]
    assert UncertaintySampler(method="margin").select(pool, 1, rng=_rng()).tolist() == [1]


def test_empty_images_score_empty_score() -> None:
    pool = Pool.from_lists(
        ["boxes", "nothing"], [np.array([[0.6, 0.4]]), np.zeros((0, 2))], n_classes=2
    )
    assert UncertaintySampler(empty_score=1.0).select(pool, 1, rng=_rng()).tolist() == [1]
    assert UncertaintySampler(empty_score=0.0).select(pool, 1, rng=_rng()).tolist() == [0]
    reasons = UncertaintySampler(empty_score=1.0).choose(pool, 2, rng=_rng()).describe(pool)
    assert reasons[0] == "nothing: uncertainty entropy/max = 1.0000 (no box predicted)"
    assert reasons[1] == "boxes: uncertainty entropy/max = 0.9710 over 1 boxes"


def test_by_default_an_image_with_no_box_ranks_with_the_confident_ones() -> None:
    sure, unsure = np.array([[0.99, 0.01]]), np.array([[0.5, 0.5]])
    scores = [sure, unsure, np.zeros((0, 2)), unsure, sure, np.zeros((0, 2))]
    pool = Pool.from_lists([f"i{k}" for k in range(6)], scores, n_classes=2)
    for sampler in (UncertaintySampler(), ClassAwareSampler()):
        assert sorted(sampler.select(pool, 2, rng=_rng()).tolist()) == [1, 3]
        ranked = sampler.scores(pool)
        assert ranked[2] == ranked[5] < ranked[1]


def test_class_balance_prefers_rare_classes() -> None:
    pool = Pool.from_lists(
        ["common", "rare", "none"],
        [np.array([[0.9, 0.0]]), np.array([[0.0, 0.9]]), np.zeros((0, 2))],
        n_classes=2,
        labeled_class_counts=np.array([500, 2]),
    )
    assert ClassBalanceSampler().select(pool, 3, rng=_rng()).tolist() == [1, 0, 2]


def test_class_balance_needs_counts() -> None:
    pool = Pool.from_lists(["a"], [np.array([[0.5, 0.5]])], n_classes=2)
    with pytest.raises(ValueError, match="labeled_class_counts"):
        ClassBalanceSampler().select(pool, 1, rng=_rng())


def test_diversity_needs_embeddings() -> None:
    pool = Pool.from_lists(["a"], [np.array([[0.5, 0.5]])], n_classes=2)
    with pytest.raises(ValueError, match="embeddings"):
        DiversitySampler().select(pool, 1, rng=_rng())


def test_diversity_avoids_what_is_labeled() -> None:
    emb = np.array([[0.0, 0], [0.1, 0], [5, 5], [5.1, 5]])
    pool = Pool.from_lists(
        list("abcd"),
        [np.zeros((0, 1))] * 4,
        n_classes=1,
        embeddings=emb,
        labeled_embeddings=np.array([[5.0, 5]]),
    )
    for method in ("kcenter", "kmeans++"):
        picked = DiversitySampler(method=method).select(pool, 1, rng=_rng())
        assert picked.tolist()[0] in (0, 1)


def test_random_is_seeded() -> None:
    pool = random_pool(0, 50)
    a = RandomSampler().select(pool, 10, rng=np.random.default_rng(5))
    b = RandomSampler().select(pool, 10, rng=np.random.default_rng(5))
    c = RandomSampler().select(pool, 10, rng=np.random.default_rng(6))
    assert a.tolist() == b.tolist() != c.tolist()


@pytest.mark.parametrize("sampler", ALL, ids=repr)
def test_budget_edge_cases(sampler: BaseSampler) -> None:
    pool = random_pool(1, 12)
    assert sampler.select(pool, 0, rng=_rng()).tolist() == []
    everything = sampler.select(pool, 50, rng=_rng())
    assert sorted(everything.tolist()) == list(range(12))
    assert everything.dtype == np.int64
    with pytest.raises(ValueError, match="budget must be >= 0"):
        sampler.select(pool, -1, rng=_rng())
    with pytest.raises(TypeError, match="budget must be an int"):
        sampler.select(pool, 2.5, rng=_rng())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        sampler.select(pool, 2, rng=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("sampler", ALL, ids=repr)
def test_empty_pool_gives_no_picks(sampler: BaseSampler) -> None:
    pool = Pool.from_lists(
        [],
        [],
        n_classes=3,
        embeddings=np.zeros((0, 2)),
        labeled_embeddings=np.ones((2, 2)),
        labeled_class_counts=np.ones(3),
    )
    assert sampler.select(pool, 5, rng=_rng()).tolist() == []


@pytest.mark.parametrize("sampler", ALL, ids=repr)
def test_every_pick_has_a_score_and_reason(sampler: BaseSampler) -> None:
    pool = random_pool(2, 30)
    sel = sampler.choose(pool, 6, rng=_rng())
    assert len(sel) == len(sel.scores) == len(sel.reasons) == 6
    assert all(line.startswith("img") for line in sel.describe(pool))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: UncertaintySampler(method="variance"), "'variance' is not one of"),
        (lambda: UncertaintySampler(aggregation="median"), "'median' is not one of"),
        (lambda: UncertaintySampler(top_k=0), "top_k"),
        (lambda: UncertaintySampler(empty_score=float("nan")), "NaN"),
        (lambda: ClassBalanceSampler(smoothing=0), "smoothing"),
        (lambda: DiversitySampler(method="coreset"), "'coreset' is not one of"),
    ],
)
def test_bad_parameters(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
