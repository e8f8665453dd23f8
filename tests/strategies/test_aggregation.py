"""Per-image aggregation of per-box values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from al_object_detection.strategies.aggregation import aggregate

VALUES = np.array([0.2, 0.9, 0.4, 0.7, 0.1, 0.5])
OFFSETS = np.array([0, 3, 3, 6])  # image 1 has no box


def test_each_aggregation() -> None:
    assert aggregate(VALUES, OFFSETS, "max").tolist() == pytest.approx([0.9, 1.0, 0.7])
    assert aggregate(VALUES, OFFSETS, "sum").tolist() == pytest.approx([1.5, 1.0, 1.3])
    assert aggregate(VALUES, OFFSETS, "mean").tolist() == pytest.approx([0.5, 1.0, 1.3 / 3])
    assert aggregate(VALUES, OFFSETS, "top_k_mean", top_k=2).tolist() == pytest.approx(
        [0.65, 1.0, 0.6]
    )


def test_empty_score_is_configurable() -> None:
    assert aggregate(VALUES, OFFSETS, "max", empty_score=-1.0)[1] == -1.0
    assert (
        aggregate(np.zeros(0), np.zeros(4, np.int64), "mean", empty_score=0.3).tolist() == [0.3] * 3
    )


def test_top_k_larger_than_box_count_is_the_mean() -> None:
    np.testing.assert_allclose(
        aggregate(VALUES, OFFSETS, "top_k_mean", top_k=10), aggregate(VALUES, OFFSETS, "mean")
    )


def test_top_k_mean_with_ties_removes_one_value_at_a_time() -> None:
    v = np.array([0.5, 0.5, 0.5, 0.1])
    assert aggregate(v, np.array([0, 4]), "top_k_mean", top_k=2)[0] == pytest.approx(0.5)
    assert aggregate(v, np.array([0, 4]), "top_k_mean", top_k=4)[0] == pytest.approx(0.4)


def test_nan_box_makes_its_image_nan_only() -> None:
    v = np.array([0.2, np.nan, 0.3])
    out = aggregate(v, np.array([0, 2, 3]), "max")
    assert np.isnan(out[0])
    assert out[1] == pytest.approx(0.3)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        aggregate(VALUES, OFFSETS, "median")
    with pytest.raises(ValueError, match="top_k"):
        aggregate(VALUES, OFFSETS, "top_k_mean", top_k=0)


@given(
    st.lists(st.lists(st.floats(0, 1), max_size=6), max_size=8),
    st.integers(1, 5),
)
def test_matches_a_plain_python_loop(images: list[list[float]], k: int) -> None:
    values = np.array([v for img in images for v in img], dtype=np.float64)
    offsets = np.concatenate([[0], np.cumsum([len(img) for img in images])]).astype(np.int64)
    expected = {
        "max": [max(img, default=7.0) for img in images],
        "sum": [sum(img) if img else 7.0 for img in images],
        "mean": [sum(img) / len(img) if img else 7.0 for img in images],
        "top_k_mean": [sum(sorted(img)[-k:]) / min(k, len(img)) if img else 7.0 for img in images],
    }
    for how, want in expected.items():
        got = aggregate(values, offsets, how, top_k=k, empty_score=7.0)
        np.testing.assert_allclose(got, want, atol=1e-12)
