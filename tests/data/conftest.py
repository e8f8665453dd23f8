"""Helpers shared by the data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from al_object_detection.data import DetectionData, LabeledImage, write_yolo


def save_image(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    """A small valid PNG at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 30, 200)).save(path)
    return path


@pytest.fixture
def yolo_root(tmp_path: Path) -> Path:
    """A valid YOLO folder: two pool images (one unlabeled) and one val image."""
    source = tmp_path / "source"
    images = (
        LabeledImage(
            save_image(source / "a.png"),
            40,
            30,
            np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.25, 0.5]], np.float32),
            ("cat", "dog"),
            "pool",
            "photo1",
        ),
        LabeledImage(save_image(source / "b.png"), 40, 30, None, (), "pool", "photo1"),
        LabeledImage(
            save_image(source / "c.png"), 40, 30, np.zeros((0, 4), np.float32), (), "val", "p2"
        ),
    )
    root = tmp_path / "dataset"
    write_yolo(DetectionData(("cat", "dog"), images), root)
    return root
