"""Filling a round's budget in images, boxes or seconds from a sampler's ranking."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import RandomSampler, UncertaintySampler
from al_object_detection.strategies.budget import choose_within, fill_budget
from tests.strategies.helpers import random_pool


def test_the_longest_prefix_within_the_budget_is_taken() -> None:
    fill = fill_budget(np.array([3.0, 4.0, 2.0, 5.0]), 9.0)
    assert (fill.count, fill.spent, fill.exhausted) == (3, 9.0, False)


def test_the_first_candidate_is_taken_even_when_it_alone_is_too_dear() -> None:
    assert fill_budget(np.array([12.0, 1.0]), 10.0).count == 1


def test_a_ranking_that_fits_entirely_says_so() -> None:
    fill = fill_budget(np.array([1.0, 1.0]), 10.0)
    assert (fill.count, fill.exhausted) == (2, True)
    assert fill_budget(np.array([]), 5.0).exhausted


@pytest.mark.parametrize(("costs", "budget"), [([1.0, -1.0], 3.0), ([1.0, np.nan], 3.0),
                                               ([1.0], -2.0)])  # fmt: skip
def test_bad_costs_or_budgets_are_refused(costs: list[float], budget: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        fill_budget(np.array(costs), budget)


def test_picks_fill_a_box_budget_in_the_samplers_order() -> None:
    pool = random_pool(0, n=40)
    boxes = np.diff(pool.box_offsets).astype(float)  # each image costs its predicted boxes
    sampler = UncertaintySampler()
    rng = np.random.default_rng(0)
    chosen = choose_within(sampler, pool, 20.0, boxes, rng=rng)
    ranking = sampler.choose(pool, 40, rng=np.random.default_rng(0))
    assert chosen.positions.tolist() == ranking.positions[: len(chosen)].tolist()
    spent = boxes[chosen.positions].sum()
    assert spent <= 20.0
    assert spent + boxes[ranking.positions[len(chosen)]] > 20.0  # the next one would not fit
    assert len(chosen.reasons) == len(chosen)


def test_a_short_first_ranking_is_lengthened_until_the_budget_is_filled() -> None:
    pool = random_pool(1, n=50)
    sampler = UncertaintySampler()
    ranking = sampler.choose(pool, 50, rng=np.random.default_rng(0)).positions
    costs = np.full(50, 0.25)
    costs[ranking[-5:]] = 100.0  # the pool's mean cost (10.2) is far above the ranked ones'
    chosen = choose_within(sampler, pool, 3.0, costs, rng=np.random.default_rng(0))
    assert len(chosen) == 12  # a first ranking of 1 image, doubled until the budget is full
    assert costs[chosen.positions].sum() == pytest.approx(3.0)


def test_the_label_budget_caps_the_images() -> None:
    pool = random_pool(2, n=30)
    chosen = choose_within(
        RandomSampler(), pool, 1e9, np.ones(30), rng=np.random.default_rng(0), max_count=7
    )
    assert len(chosen) == 7


def test_costs_must_cover_the_pool() -> None:
    with pytest.raises(ValueError, match="3 costs for a pool of 30"):
        choose_within(RandomSampler(), random_pool(2, n=30), 5.0, np.ones(3),
                      rng=np.random.default_rng(0))  # fmt: skip
