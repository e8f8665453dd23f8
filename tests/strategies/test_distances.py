"""Chunked distance kernels."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import distances as dist
from al_object_detection.strategies.parallel import workers


def _exact(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1).min(1)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dist, "ROW_BLOCK", 16)
    monkeypatch.setattr(dist, "CENTER_BLOCK", 8)
    monkeypatch.setattr(dist, "EXACT_CENTERS", 10)


@pytest.mark.usefixtures("small_blocks")
def test_min_d2_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 5)).astype(np.float32)
    c = rng.standard_normal((30, 5)).astype(np.float32)
    with workers() as pool:
        got = dist.min_d2(pool, x, dist.sq_norms(x), c)
    np.testing.assert_allclose(got, _exact(x, c), rtol=1e-4, atol=1e-4)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("n_centers", [5, 200])
def test_upper_bound_is_never_below_the_nearest_distance(n_centers: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 4)).astype(np.float32)
    c = rng.standard_normal((n_centers, 4)).astype(np.float32)
    with workers() as pool:
        bound = dist.nearest_d2_upper_bound(pool, x, dist.sq_norms(x), c, nprobe=2)
    exact = _exact(x, c)
    assert np.all(bound >= exact - 1e-4)
    assert np.isfinite(bound).all()
    assert np.mean(np.isclose(bound, exact, rtol=1e-4, atol=1e-4)) > 0.5  # mostly tight


def test_farthest_first_spreads_out() -> None:
    x = np.array([[0.0, 0], [0.1, 0], [10, 0], [5, 0]], dtype=np.float32)
    assert dist.farthest_first(x, 3).tolist() == [0, 2, 3]
