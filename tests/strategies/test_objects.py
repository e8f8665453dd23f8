"""Object presence and the object-count sampler."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import ObjectCountSampler, Pool, build_sampler
from al_object_detection.strategies.objects import box_presence


def test_presence_is_the_top_class_score_and_nothing_below_the_threshold() -> None:
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.2, 0.1]], dtype=np.float32)
    np.testing.assert_allclose(box_presence(scores, 0.25), [0.9, 0.3, 0.0], rtol=1e-6)
    np.testing.assert_allclose(box_presence(scores, 0.0), [0.9, 0.3, 0.2], rtol=1e-6)


@pytest.mark.parametrize("min_score", [-0.1, 1.5, float("nan")])
def test_bad_threshold(min_score: float) -> None:
    with pytest.raises(ValueError, match="min_score"):
        box_presence(np.zeros((1, 2), np.float32), min_score)
    with pytest.raises(ValueError, match="min_score"):
        ObjectCountSampler(min_score=min_score)


def test_an_image_of_many_sure_objects_goes_before_one_of_many_faint_boxes() -> None:
    faint = np.full((40, 2), 0.1, np.float32)  # a low threshold's background boxes
    pool = Pool.from_lists(
        ["faint", "three", "one", "empty"],
        [faint, np.array([[0.8, 0.1]] * 3), np.array([[0.1, 0.95]]), np.zeros((0, 2))],
        n_classes=2,
    )
    picked = ObjectCountSampler().choose(pool, 4, rng=np.random.default_rng(0))
    # faint boxes add up to nothing (4.0 without the threshold); ties go by sample id
    assert pool.sample_ids[picked.positions].tolist() == ["three", "one", "empty", "faint"]
    assert picked.describe(pool)[0] == "three: expected objects = 2.40 over 3 boxes"
    assert picked.describe(pool)[2] == "empty: expected objects = 0.00 (no box predicted)"


def test_named_in_a_config_with_its_threshold() -> None:
    sampler = build_sampler({"name": "objects", "min_score": 0.5})
    assert sampler == ObjectCountSampler(min_score=0.5)
    assert sampler.needs_predictions
