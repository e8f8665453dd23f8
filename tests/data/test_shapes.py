"""make_shapes: deterministic per seed, exact boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from al_object_detection.data import make_shapes, read_yolo


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = make_shapes(tmp_path / "a", n_images=6, seed=3)
    second = make_shapes(tmp_path / "b", n_images=6, seed=3)
    third = make_shapes(tmp_path / "c", n_images=6, seed=4)
    for x, y in zip(first.images, second.images, strict=True):
        assert x.filepath.read_bytes() == y.filepath.read_bytes()
        assert x.labels == y.labels
        assert x.split == y.split
    assert [x.filepath.read_bytes() for x in first.images] != [
        z.filepath.read_bytes() for z in third.images
    ]


def test_forty_images_with_splits_and_exact_boxes(tmp_path: Path) -> None:
    data = make_shapes(tmp_path, n_images=40)
    assert data.classes == ("square", "disc", "triangle")
    assert len(data.split("val")) == 10
    assert len(data.split("pool")) == 30
    assert read_yolo(tmp_path).classes == data.classes
    for image in data.images:
        assert image.boxes is not None
        assert 1 <= len(image.boxes) <= 3
        pixels = np.asarray(Image.open(image.filepath)).max(axis=2)
        for x, y, w, h in np.rint(image.boxes * 64).astype(int):
            assert (w, h) >= (19, 19)
            inside = pixels[y : y + h, x : x + w] >= 200
            edges = (inside[0], inside[-1], inside[:, 0], inside[:, -1])
            assert all(edge.any() for edge in edges), "box is not tight around its shape"
