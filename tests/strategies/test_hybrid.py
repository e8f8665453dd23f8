"""Budget splitting and two-stage selection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from al_object_detection.strategies import (
    BaseSampler,
    DiversitySampler,
    Pool,
    RandomSampler,
    Sampler,
    Selection,
    TwoStageSampler,
    UncertaintySampler,
    split_budget,
)

from .helpers import random_pool


def test_split_budget_largest_remainder() -> None:
    assert split_budget(10, [0.7, 0.3]) == [7, 3]
    assert split_budget(10, [1, 1, 1]) == [4, 3, 3]
    assert split_budget(5, [0.5, 0.25, 0.25]) == [3, 1, 1]
    assert split_budget(3, [0, 1]) == [0, 3]


@given(st.integers(0, 1000), st.lists(st.floats(0, 100), min_size=1, max_size=6))
def test_split_budget_sums_to_budget_and_stays_within_one(budget: int, w: list[float]) -> None:
    if sum(w) <= 0:
        return
    shares = split_budget(budget, w)
    assert sum(shares) == budget
    for share, weight in zip(shares, w, strict=True):
        assert abs(share - budget * weight / sum(w)) < 1


def test_readme_usage_works_with_defaults() -> None:
    pool = random_pool(0, 60)
    sampler = Sampler([UncertaintySampler(), DiversitySampler()])
    picks = sampler.select(pool, 10, rng=np.random.default_rng(0))
    assert len(set(picks.tolist())) == 10
    assert RandomSampler().select(pool, 3, rng=np.random.default_rng(0)).shape == (3,)


def test_weights_split_the_budget_and_later_parts_skip_earlier_picks() -> None:
    pool = random_pool(1, 60)
    unc = UncertaintySampler()
    sel = Sampler([unc, unc], weights=[3, 1]).choose(pool, 8, rng=np.random.default_rng(0))
    alone = unc.select(pool, 8, rng=np.random.default_rng(0))
    assert sel.positions.tolist() == alone.tolist()  # the 2nd part continues down the ranking


class _Stingy(BaseSampler):
    """Picks at most one image, to exercise the refill."""

    def _choose(
        self, pool: Pool, budget: int, rng: np.random.Generator, taken: np.ndarray
    ) -> Selection:
        return RandomSampler().choose(pool, 1, rng=rng, taken=taken)


def test_shortfall_is_refilled_by_the_other_parts() -> None:
    pool = random_pool(2, 30)
    sel = Sampler([_Stingy(), UncertaintySampler()], weights=[0.9, 0.1]).choose(
        pool, 10, rng=np.random.default_rng(0)
    )
    assert len(set(sel.positions.tolist())) == 10
    sel = Sampler([UncertaintySampler(), _Stingy()], weights=[0.1, 0.9]).choose(
        pool, 10, rng=np.random.default_rng(0)
    )
    assert len(set(sel.positions.tolist())) == 10


@pytest.mark.parametrize(
    ("parts", "weights", "error", "message"),
    [
        ([], None, ValueError, "at least one"),
        ([UncertaintySampler()], [1, 2], ValueError, "2 weights for 1"),
        ([UncertaintySampler()], [-1], ValueError, ">= 0"),
        ([UncertaintySampler()], [0], ValueError, "not all 0"),
        (["uncertainty"], None, TypeError, "must be samplers"),
    ],
)
def test_bad_hybrids(parts: list[object], weights: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Sampler(parts, weights=weights)  # type: ignore[arg-type]


def test_two_stage_picks_diverse_images_among_the_most_uncertain() -> None:
    pool = random_pool(3, 200, dim=4)
    two = TwoStageSampler(candidates_factor=4)
    picked = two.select(pool, 10, rng=np.random.default_rng(0))
    shortlist = UncertaintySampler().select(pool, 40, rng=np.random.default_rng(0))
    assert set(picked.tolist()) <= set(shortlist.tolist())
    assert len(set(picked.tolist())) == 10
    sel = two.choose(pool, 3, rng=np.random.default_rng(0))
    assert "shortlisted as #" in sel.reasons[0]


def test_two_stage_diversity_counts_earlier_picks_as_labeled() -> None:
    emb = np.array([[0.0], [0.1], [10.0], [10.1]])
    pool = Pool.from_lists(list("abcd"), [np.zeros((0, 1))] * 4, n_classes=1, embeddings=emb)
    two = TwoStageSampler(first=RandomSampler(), candidates_factor=4)
    sel = two.choose(pool, 1, rng=np.random.default_rng(0), taken=np.array([0]))
    assert sel.positions.tolist()[0] in (2, 3)


def test_bad_candidates_factor() -> None:
    with pytest.raises(ValueError, match="candidates_factor"):
        TwoStageSampler(candidates_factor=0.5)
