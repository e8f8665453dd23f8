"""write_yolo then read_yolo gives back the same dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from al_object_detection.data import read_yolo


def test_round_trip_keeps_everything(yolo_root: Path) -> None:
    data = read_yolo(yolo_root)
    assert data.classes == ("cat", "dog")
    by_name = {image.filepath.name: image for image in data.images}
    assert set(by_name) == {"a.png", "b.png", "c.png"}
    a, b, c = by_name["a.png"], by_name["b.png"], by_name["c.png"]
    assert a.filepath == yolo_root.absolute() / "images" / "pool" / "a.png"
    assert (a.width, a.height, a.split, a.group, a.labels) == (
        40,
        30,
        "pool",
        "photo1",
        ("cat", "dog"),
    )
    assert a.boxes is not None
    np.testing.assert_allclose(a.boxes, [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.25, 0.5]], atol=1e-6)
    assert b.boxes is None
    assert not b.is_labeled
    assert c.boxes is not None
    assert c.boxes.shape == (0, 4)
    assert c.split == "val"


def test_data_yaml_is_ultralytics_style(yolo_root: Path) -> None:
    document = yaml.safe_load((yolo_root / "data.yaml").read_text())
    assert document == {
        "train": "images/pool",
        "val": "images/val",
        "nc": 2,
        "names": {0: "cat", 1: "dog"},
    }


@pytest.mark.parametrize(
    ("folder", "split"),
    [
        ("train", "pool"),
        ("extra", "pool"),
        ("valid", "val"),
        ("validation", "val"),
        ("test", "val"),
    ],
)
def test_split_folder_names(yolo_root: Path, folder: str, split: str) -> None:
    (yolo_root / "images" / "val").rename(yolo_root / "images" / folder)
    (yolo_root / "labels" / "val").rename(yolo_root / "labels" / folder)
    (yolo_root / "groups.json").unlink()
    data = read_yolo(yolo_root)
    assert {i.filepath.name: i.split for i in data.images}["c.png"] == split


def test_flat_images_folder_with_classes_txt(yolo_root: Path) -> None:
    for path in (yolo_root / "images").rglob("*.png"):
        path.rename(yolo_root / "images" / path.name)
    for path in (yolo_root / "labels").rglob("*.txt"):
        path.rename(yolo_root / "labels" / path.name)
    (yolo_root / "data.yaml").unlink()
    (yolo_root / "groups.json").unlink()
    (yolo_root / "classes.txt").write_text("cat\ndog\n")
    data = read_yolo(yolo_root)
    assert data.classes == ("cat", "dog")
    assert {image.split for image in data.images} == {"pool"}
    assert {image.group for image in data.images} == {"a", "b", "c"}


@pytest.mark.parametrize(
    "names",
    [
        "names: [cat, 'dog']",
        'names: {0: cat, 1: "dog"}',
        "names:\n  - cat\n  - dog  # comment",
        "names:\n  0: cat\n  1: dog",
        "nc: 2\nnames:\n- cat\n- dog",
    ],
)
def test_data_yaml_names_forms(yolo_root: Path, names: str) -> None:
    (yolo_root / "data.yaml").write_text(f"path: .\ntrain: images/pool\n{names}\n")
    assert read_yolo(yolo_root).classes == ("cat", "dog")


def test_box_partly_outside_is_clipped(yolo_root: Path) -> None:
    (yolo_root / "labels" / "pool" / "a.txt").write_text("0 0.95 0.5 0.2 0.4\n")
    data = read_yolo(yolo_root)
    image = next(i for i in data.images if i.filepath.name == "a.png")
    assert image.boxes is not None
    np.testing.assert_allclose(image.boxes, [[0.85, 0.3, 0.15, 0.4]], atol=1e-6)
