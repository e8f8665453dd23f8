"""TypiClust over objects: an image is picked for a typical box of an uncovered cluster."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies.object_typicality import object_typiclust

from .test_typicality import _blobs


def _scattered(blob: np.ndarray, n_images: int, seed: int = 0) -> np.ndarray:
    """Each box's image: boxes of every blob scattered over ``n_images`` images."""
    return np.random.default_rng(seed).integers(0, n_images, len(blob))


def test_each_pick_covers_a_new_object_cluster_largest_first() -> None:
    boxes, blob = _blobs([40, 25, 10])
    owners = np.arange(len(blob))  # one box per image
    picked, _, sizes = object_typiclust(boxes, owners, 3, rng=np.random.default_rng(0))
    assert sorted(blob[picked].tolist()) == [0, 1, 2]
    assert sizes.tolist() == sorted(sizes.tolist(), reverse=True)


def test_labeled_boxes_cover_their_cluster() -> None:
    boxes, blob = _blobs([40, 25, 10])
    owners = np.arange(len(blob))
    labeled = boxes[blob == 0][:2] + 0.01
    picked, _, _ = object_typiclust(
        boxes, owners, 1, rng=np.random.default_rng(0), labeled_boxes=labeled
    )
    assert blob[picked].tolist() == [1]  # the largest cluster no labeled box covers


def test_an_image_covers_every_cluster_its_boxes_fall_in() -> None:
    boxes, blob = _blobs([40, 40, 20])
    # images 0-39 each hold a box of blob 0 and one of blob 1; images 40-59 one of blob 2
    owners = np.concatenate([np.arange(40), np.arange(40), 40 + np.arange(20)])
    picked, _, _ = object_typiclust(boxes, owners, 2, rng=np.random.default_rng(0))
    assert picked[0] < 40
    assert blob[owners == picked[1]].tolist() == [2]  # not the other blob of 40: covered


def test_picks_are_distinct_images_and_stop_at_the_images_there_are() -> None:
    boxes, blob = _blobs([20, 20])
    owners = _scattered(blob, 5, seed=1)
    picked, typical, sizes = object_typiclust(boxes, owners, 10, rng=np.random.default_rng(0))
    assert sorted(picked.tolist()) == sorted(set(owners.tolist()))
    assert len(typical) == len(sizes) == len(picked)
    empty, _, _ = object_typiclust(
        np.zeros((0, 4)), np.zeros(0, np.int64), 3, rng=np.random.default_rng(0)
    )
    assert empty.tolist() == []


def test_the_same_seed_gives_the_same_picks_and_a_mismatch_is_refused() -> None:
    boxes, blob = _blobs([30, 20, 10])
    owners = _scattered(blob, 25)
    first = object_typiclust(boxes, owners, 4, rng=np.random.default_rng(7))[0]
    again = object_typiclust(boxes, owners, 4, rng=np.random.default_rng(7))[0]
    assert first.tolist() == again.tolist()
    with pytest.raises(ValueError, match="box owners"):
        object_typiclust(boxes, owners[:-1], 4, rng=np.random.default_rng(0))
