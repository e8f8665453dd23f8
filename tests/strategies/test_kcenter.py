"""Greedy k-center: exact against the textbook loop, including the lazy paths."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import distances, kcenter
from al_object_detection.strategies.kcenter import kcenter_greedy

from .helpers import naive_kcenter


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks, candidate sets and cells small enough that every lazy path runs."""
    monkeypatch.setattr(kcenter, "ROW_BLOCK", 8)
    monkeypatch.setattr(kcenter, "CANDIDATES", 12)
    monkeypatch.setattr(distances, "ROW_BLOCK", 8)
    monkeypatch.setattr(distances, "CENTER_BLOCK", 4)
    monkeypatch.setattr(distances, "EXACT_CENTERS", 6)


@pytest.mark.usefixtures("tiny_blocks")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_labeled", [0, 3, 40])
def test_same_picks_as_the_textbook_loop(seed: int, n_labeled: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((600, 3)) * rng.uniform(0.2, 3, (600, 1))  # uneven density
    labeled = rng.standard_normal((n_labeled, 3)) if n_labeled else None
    pos, dist = kcenter_greedy(x, 40, labeled=labeled)
    assert pos.tolist() == naive_kcenter(x, 40, labeled)
    assert np.all(np.diff(dist[1:]) <= 1e-5)  # farthest-first distances never grow


def test_distances_are_to_the_nearest_center_at_pick_time() -> None:
    x = np.array([[0.0], [1.0], [3.0], [10.0]])
    pos, dist = kcenter_greedy(x, 2, labeled=np.array([[0.0]]))
    assert pos.tolist() == [3, 2]
    np.testing.assert_allclose(dist, [10.0, 3.0], rtol=1e-6)


def test_first_pick_without_labels_is_farthest_from_the_mean() -> None:
    x = np.array([[0.0], [1.0], [2.0], [9.0]])
    pos, dist = kcenter_greedy(x, 2)
    assert pos.tolist() == [3, 0]
    assert np.isinf(dist[0])


def test_taken_rows_are_centers_and_never_picked() -> None:
    x = np.array([[0.0], [1.0], [5.0], [5.1], [9.0]])
    pos, _ = kcenter_greedy(x, 2, labeled=np.array([[0.0]]), taken=np.array([4]))
    assert pos.tolist() == [2, 1]


def test_duplicates_and_budget_beyond_the_pool() -> None:
    x = np.zeros((5, 2))
    pos, dist = kcenter_greedy(x, 9, labeled=np.zeros((1, 2)), taken=np.array([0]))
    assert sorted(pos.tolist()) == [1, 2, 3, 4]
    np.testing.assert_allclose(dist, 0.0)


def test_nothing_to_pick() -> None:
    pos, dist = kcenter_greedy(np.zeros((3, 2)), 2, taken=np.arange(3))
    assert pos.tolist() == []
    assert dist.tolist() == []
