"""make_fashion: class mix control, exact boxes, splits by background photo."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from al_object_detection.data.fashion import class_probabilities, make_fashion
from al_object_detection.data.fashion_mnist import CLASSES, DEFAULT_DIR

needs_mnist = pytest.mark.skipif(
    not DEFAULT_DIR.is_dir(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)


def _photo(path: Path, colour: tuple[int, int, int] = (0, 0, 0)) -> Path:
    Image.new("RGB", (120, 100), colour).save(path)
    return path


def test_long_tail_probabilities_fall_with_class_index() -> None:
    probs = class_probabilities("long_tail")
    assert probs.sum() == pytest.approx(1.0)
    assert (np.diff(probs) < 0).all()
    with pytest.raises(ValueError, match="10 non-negative weights"):
        class_probabilities([1.0, 2.0])


@needs_mnist
def test_class_weights_control_the_mix(tmp_path: Path) -> None:
    only_boots = make_fashion(tmp_path / "boots", 10, image_size=96, class_weights=[0] * 9 + [1])
    assert {label for image in only_boots.images for label in image.labels} == {"Ankle boot"}
    tail = make_fashion(tmp_path / "tail", 120, image_size=96, class_weights="long_tail")
    counts = Counter(label for image in tail.images for label in image.labels)
    assert counts[CLASSES[0]] > 5 * counts[CLASSES[9]]
    assert tail.classes == CLASSES


@needs_mnist
def test_boxes_are_the_exact_extent_of_the_pasted_item(tmp_path: Path) -> None:
    data = make_fashion(
        tmp_path / "out",
        12,
        seed=5,
        image_size=96,
        objects_per_image=(1, 1),
        backgrounds=[_photo(tmp_path / "black.png")],
        image_format="png",
    )
    for image in data.images:
        assert image.boxes is not None
        assert len(image.boxes) == 1
        ys, xs = np.nonzero(np.asarray(Image.open(image.filepath)).max(axis=2))
        expected = [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
        np.testing.assert_allclose(image.boxes[0] * 96, expected, atol=1e-3)


@needs_mnist
def test_same_seed_same_data_and_splits_follow_photos(tmp_path: Path) -> None:
    photos = [_photo(tmp_path / f"p{k}.png", (40 * k, 90, 10)) for k in range(5)]
    first = make_fashion(tmp_path / "a", 30, image_size=64, backgrounds=photos, val_fraction=0.4)
    second = make_fashion(tmp_path / "b", 30, image_size=64, backgrounds=photos, val_fraction=0.4)
    for x, y in zip(first.images, second.images, strict=True):
        assert x.filepath.read_bytes() == y.filepath.read_bytes()
    split_of_group: dict[str, str] = {}
    for image in first.images:
        assert split_of_group.setdefault(image.group, image.split) == image.split
    assert Counter(split_of_group.values()) == {"pool": 3, "val": 2}


def test_missing_fashion_mnist_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        make_fashion(tmp_path / "out", 1, mnist_dir=tmp_path)
