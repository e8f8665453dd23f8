"""Per-box uncertainty scores."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import uncertainty as u

CERTAIN = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
UNIFORM = np.full((1, 4), 0.25, dtype=np.float32)


@pytest.mark.parametrize("method", ["least_confidence", "margin", "entropy"])
def test_distribution_methods_span_zero_to_one(method: str) -> None:
    fn = u.BOX_UNCERTAINTY[method]
    assert fn(CERTAIN)[0] == pytest.approx(0.0, abs=1e-6)
    assert fn(UNIFORM)[0] == pytest.approx(1.0, abs=1e-6)


def test_scores_are_normalized_before_scoring() -> None:
    # YOLO sigmoids do not sum to 1; only their proportions matter here
    scaled = np.array([[0.4, 0.2, 0.2, 0.0]], dtype=np.float32)
    normalized = scaled / scaled.sum()
    for method in ("least_confidence", "margin", "entropy"):
        fn = u.BOX_UNCERTAINTY[method]
        assert fn(scaled)[0] == pytest.approx(fn(normalized)[0], abs=1e-6)


def test_known_values() -> None:
    p = np.array([[0.5, 0.3, 0.2]], dtype=np.float32)
    assert u.least_confidence(p)[0] == pytest.approx((1 - 0.5) * 3 / 2)
    assert u.margin(p)[0] == pytest.approx(1 - 0.2)
    h = -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2)) / np.log(3)
    assert u.entropy(p)[0] == pytest.approx(h, rel=1e-5)


def test_binary_entropy_per_class() -> None:
    p = np.array([[0.5, 0.0, 1.0, 0.5]], dtype=np.float32)
    assert u.binary_entropy(p)[0] == pytest.approx(0.5)
    assert u.max_binary_entropy(p)[0] == pytest.approx(1.0)
    q = np.array([[0.1, 0.1]], dtype=np.float32)
    expected = -(0.1 * np.log2(0.1) + 0.9 * np.log2(0.9))
    assert u.binary_entropy(q)[0] == pytest.approx(expected, rel=1e-5)


def test_all_zero_row_counts_as_uniform() -> None:
    zero = np.zeros((1, 4), dtype=np.float32)
    assert u.entropy(zero)[0] == pytest.approx(1.0)
    assert u.least_confidence(zero)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("method", u.BOX_METHODS)
def test_single_class_and_no_box(method: str) -> None:
    one = np.array([[0.7], [0.2]], dtype=np.float32)
    out = u.box_uncertainty(one, method)
    assert out.shape == (2,)
    assert np.all((out >= 0) & (out <= 1))
    assert u.box_uncertainty(np.zeros((0, 3), np.float32), method).shape == (0,)


@pytest.mark.parametrize("method", u.BOX_METHODS)
def test_chunked_driver_matches_direct_call(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(u, "CHUNK_BOXES", 7)
    p = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    np.testing.assert_allclose(u.box_uncertainty(p, method), u.BOX_UNCERTAINTY[method](p))


def test_unknown_method_and_bad_shape() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        u.box_uncertainty(UNIFORM, "variance")
    with pytest.raises(ValueError, match="2-D"):
        u.box_uncertainty(np.zeros(3, np.float32), "entropy")
