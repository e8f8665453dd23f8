"""Class-rarity scoring."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies.balance import box_rarity, class_weights


def test_rarest_class_weighs_one_and_frequent_ones_less() -> None:
    w = class_weights(np.array([0, 9, 99]), smoothing=1.0)
    np.testing.assert_allclose(w, [1.0, 0.1, 0.01])


def test_equal_counts_weigh_equally() -> None:
    np.testing.assert_allclose(class_weights(np.array([5, 5, 5])), [1, 1, 1])


@pytest.mark.parametrize("counts", [np.array([-1, 2]), np.array([np.nan, 2]), np.ones((2, 2))])
def test_bad_counts(counts: np.ndarray) -> None:
    with pytest.raises(ValueError, match="counts"):
        class_weights(counts)


def test_bad_smoothing() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        class_weights(np.array([1, 2]), smoothing=0)


def test_box_rarity_prefers_confident_rare_boxes() -> None:
    w = np.array([1.0, 0.1])
    scores = np.array([[0.9, 0.0], [0.0, 0.9], [0.3, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(box_rarity(scores, w), [0.9, 0.09, 0.3], rtol=1e-6)


def test_box_rarity_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="match the class weights"):
        box_rarity(np.zeros((2, 3), np.float32), np.ones(2))
