"""Class-aware uncertainty: hard classes (low AP) and rare classes (few labels) count more."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import ClassAwareSampler, Pool
from al_object_detection.strategies.class_aware import class_importance

UNSURE_A = np.array([[0.5, 0.01]])
UNSURE_B = np.array([[0.01, 0.5]])


def _pool(**extra: np.ndarray) -> Pool:
    return Pool.from_lists(["a", "b"], [UNSURE_A, UNSURE_B], n_classes=2, **extra)


def test_the_harder_class_wins_a_tie_in_uncertainty() -> None:
    pool = _pool(class_ap=np.array([0.8, 0.1]))
    assert ClassAwareSampler().select(pool, 1, rng=np.random.default_rng(0)).tolist() == [1]
    pool = _pool(class_ap=np.array([0.1, 0.8]))
    assert ClassAwareSampler().select(pool, 1, rng=np.random.default_rng(0)).tolist() == [0]


def test_the_rarer_class_wins_a_tie_in_uncertainty() -> None:
    pool = _pool(labeled_class_counts=np.array([3.0, 40.0]))
    assert ClassAwareSampler().select(pool, 1, rng=np.random.default_rng(0)).tolist() == [0]
    assert ClassAwareSampler(beta=0.0).scores(pool).tolist() == pytest.approx([1.0, 1.0], 1e-3)


def test_importance_scaled_to_one_and_unmeasured_classes_count_as_hard() -> None:
    pool = Pool.from_lists(
        ["a"],
        [np.zeros((0, 3))],
        n_classes=3,
        class_ap=np.array([0.5, np.nan, 0.75]),
        labeled_class_counts=np.array([1.0, 1.0, 1.0]),
    )
    assert class_importance(pool).tolist() == pytest.approx([0.5, 1.0, 0.25])
    assert class_importance(pool, alpha=0.0).tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_bad_class_ap_is_refused() -> None:
    with pytest.raises(ValueError, match="class_ap must have one value per class"):
        _pool(class_ap=np.array([0.5]))
    with pytest.raises(ValueError, match=r"class_ap values must lie in \[0, 1\]"):
        _pool(class_ap=np.array([0.5, 1.5]))
