"""Budget checks and ranking."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies.selection import (
    check_budget,
    check_rng,
    check_taken,
    random_k,
    top_k,
)

IDS = np.array(["e", "d", "c", "b", "a"], dtype=object)


def test_check_budget() -> None:
    assert check_budget(3) == 3
    assert check_budget(np.int64(2)) == 2
    with pytest.raises(ValueError, match=">= 0"):
        check_budget(-1)
    for bad in (1.5, "3", True, None):
        with pytest.raises(TypeError, match="budget must be an int"):
            check_budget(bad)


def test_check_rng() -> None:
    rng = np.random.default_rng(0)
    assert check_rng(rng) is rng
    with pytest.raises(TypeError, match="default_rng"):
        check_rng(np.random.RandomState(0))


def test_check_taken() -> None:
    assert check_taken(None, 3).tolist() == []
    assert check_taken(np.array([2, 0, 2]), 3).tolist() == [0, 2]
    with pytest.raises(ValueError, match="taken positions"):
        check_taken(np.array([3]), 3)


def test_top_k_orders_best_first() -> None:
    assert top_k(np.array([0.1, 0.9, 0.5, 0.7, 0.3]), 3, ids=IDS).tolist() == [1, 3, 2]


def test_nan_ranks_last_and_inf_first() -> None:
    scores = np.array([np.nan, 0.2, np.inf, -np.inf, 0.5])
    assert top_k(scores, 5, ids=IDS).tolist() == [2, 4, 1, 3, 0]


def test_ties_go_to_the_smaller_id() -> None:
    scores = np.array([1.0, 1.0, 0.0, 1.0, 1.0])
    assert top_k(scores, 2, ids=IDS).tolist() == [4, 3]  # ids "a", "b"


def test_taken_positions_are_skipped_and_budget_is_capped() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    assert top_k(scores, 10, ids=IDS, taken=np.array([1, 3])).tolist() == [2, 4, 0]
    assert top_k(scores, 0, ids=IDS).tolist() == []


def test_top_k_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shape"):
        top_k(np.zeros(3), 1, ids=IDS)


def test_random_k_is_seeded_distinct_and_skips_taken() -> None:
    a = random_k(10, 5, rng=np.random.default_rng(7), taken=np.array([0, 1]))
    b = random_k(10, 5, rng=np.random.default_rng(7), taken=np.array([0, 1]))
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 5
    assert not {0, 1} & set(a.tolist())
    assert len(random_k(3, 10, rng=np.random.default_rng(0))) == 3
