"""k-means++ seeding around the labeled set."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import distances
from al_object_detection.strategies.kmeanspp import kmeanspp as seed


def test_deterministic_under_a_seed_and_distinct() -> None:
    x = np.random.default_rng(0).standard_normal((200, 4))
    a, _ = seed(x, 30, rng=np.random.default_rng(3))
    b, _ = seed(x, 30, rng=np.random.default_rng(3))
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 30


def test_rows_on_a_labeled_point_come_last() -> None:
    x = np.array([[0.0, 0], [0, 0], [3, 0], [0, 4], [5, 5]])
    pos, dist = seed(x, 5, rng=np.random.default_rng(0), labeled=np.zeros((1, 2)))
    assert set(pos[:3].tolist()) == {2, 3, 4}
    assert set(pos[3:].tolist()) == {0, 1}
    np.testing.assert_allclose(dist[3:], 0.0)


def test_taken_rows_are_not_picked() -> None:
    x = np.random.default_rng(1).standard_normal((20, 2))
    pos, _ = seed(x, 30, rng=np.random.default_rng(0), taken=np.arange(10))
    assert sorted(pos.tolist()) == list(range(10, 20))


def test_first_pick_follows_squared_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rejection sampling from loose bounds still draws with probability ∝ d²."""
    monkeypatch.setattr(distances, "EXACT_CENTERS", 2)  # loose cell bounds, then corrected
    x = np.array([[1.0, 0], [2, 0], [0, 3], [-1, -1]])
    labeled = np.array([[0.0, 0], [0.5, 0], [0, 0.5], [-0.5, 0]])
    d2 = ((x[:, None] - labeled[None]) ** 2).sum(-1).min(1)
    expected = d2 / d2.sum()
    rng = np.random.default_rng(0)
    n = 600
    firsts = [int(seed(x, 1, rng=rng, labeled=labeled)[0][0]) for _ in range(n)]
    freq = np.bincount(firsts, minlength=4) / n
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / n) + 1e-9)


def test_later_picks_in_one_batch_follow_updated_distances() -> None:
    # two far clusters: after one pick in a cluster, its twin has d² ≈ 0 and is rejected
    x = np.array([[100.0, 0], [100.0, 0.001], [-100.0, 0], [-100.0, 0.001]])
    for s in range(20):
        pos, _ = seed(x, 2, rng=np.random.default_rng(s), labeled=np.zeros((1, 2)))
        assert {int(p) // 2 for p in pos} == {0, 1}
