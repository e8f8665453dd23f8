"""Pool construction and validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from al_object_detection.strategies import Pool

from .helpers import random_pool


def _pool(**overrides: Any) -> Pool:
    fields: dict[str, Any] = {
        "sample_ids": np.array(["a", "b"], dtype=object),
        "box_scores": np.array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]]),
        "box_offsets": np.array([0, 2, 3]),
        "embeddings": np.zeros((2, 3)),
        "labeled_embeddings": np.ones((4, 3)),
        "labeled_class_counts": np.array([3, 0]),
    }
    fields.update(overrides)
    return Pool(**fields)


def test_valid_pool_normalizes_dtypes() -> None:
    pool = _pool()
    assert pool.n_images == 2
    assert pool.n_classes == 2
    assert pool.box_scores.dtype == np.float32
    assert pool.box_offsets.dtype == np.int64
    assert pool.embeddings is not None
    assert pool.embeddings.dtype == np.float32
    assert pool.labeled_class_counts is not None
    assert pool.labeled_class_counts.dtype == float


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sample_ids": np.array(["a", "a"], dtype=object)}, "'a' appears more than once"),
        ({"sample_ids": np.array([["a", "b"]], dtype=object)}, "1-D"),
        ({"box_offsets": np.array([0, 3])}, "3 integers"),
        ({"box_offsets": np.array([0.0, 2, 3])}, "integers"),
        ({"box_offsets": np.array([1, 2, 3])}, "start at 0"),
        ({"box_offsets": np.array([0, 3, 2])}, "never decrease"),
        ({"box_offsets": np.array([0, 1, 2])}, "2 rows"),
        ({"box_scores": np.array([[0.2, 0.8], [0.5, np.nan], [1.0, 0.0]])}, "NaN"),
        ({"box_scores": np.array([[0.2, 0.8], [0.5, np.inf], [1.0, 0.0]])}, r"\[0, 1\]"),
        ({"box_scores": np.array([[-3.0, 2.0], [0.5, 0.5], [1.0, 0.0]])}, "logits"),
        ({"embeddings": np.zeros((3, 3))}, r"embeddings must have shape \(2, dim\)"),
        ({"embeddings": np.full((2, 3), np.nan)}, "NaN or inf in 2 rows"),
        ({"labeled_embeddings": np.zeros((4, 2))}, r"shape \(rows, 3\)"),
        ({"labeled_class_counts": np.array([1, 2, 3])}, "one count per class"),
        ({"labeled_class_counts": np.array([1, -2])}, ">= 0"),
    ],
)
def test_invalid_pools_say_what_is_wrong(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _pool(**overrides)


def test_from_lists_builds_csr_offsets() -> None:
    pool = Pool.from_lists(
        ["x", "y", "z"], [np.full((2, 3), 0.1), np.zeros((0, 3)), np.full((1, 3), 0.2)], n_classes=3
    )
    assert pool.box_offsets.tolist() == [0, 2, 2, 3]
    assert pool.box_scores.shape == (3, 3)
    with pytest.raises(ValueError, match="2 sample ids but 1"):
        Pool.from_lists(["x", "y"], [np.zeros((0, 3))], n_classes=3)


def test_empty_pool() -> None:
    pool = Pool.from_lists([], [], n_classes=5)
    assert pool.n_images == 0
    assert pool.box_scores.shape == (0, 5)


def test_subset_keeps_each_image_with_its_boxes() -> None:
    pool = random_pool(0, 12)
    sub = pool.subset(np.array([7, 2, 9]), also_labeled=np.array([0, 1]))
    assert sub.sample_ids.tolist() == ["img0007", "img0002", "img0009"]
    for i, p in enumerate([7, 2, 9]):
        a, b = pool.box_offsets[p], pool.box_offsets[p + 1]
        c, d = sub.box_offsets[i], sub.box_offsets[i + 1]
        np.testing.assert_array_equal(sub.box_scores[c:d], pool.box_scores[a:b])
    assert pool.embeddings is not None
    assert sub.labeled_embeddings is not None
    assert pool.labeled_embeddings is not None
    np.testing.assert_array_equal(sub.labeled_embeddings[-2:], pool.embeddings[[0, 1]])
    assert len(sub.labeled_embeddings) == len(pool.labeled_embeddings) + 2
