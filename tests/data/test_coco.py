"""read_coco: conversion of pixel boxes and validation of bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from al_object_detection.data import DataError, read_coco


def save_image(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)


def _coco(tmp_path: Path) -> dict[str, Any]:
    save_image(tmp_path / "img" / "a.png", (40, 20))
    save_image(tmp_path / "img" / "b.png", (40, 20))
    return {
        "images": [
            {"id": 10, "file_name": "a.png", "width": 40, "height": 20},
            {"id": 11, "file_name": "b.png", "width": 40, "height": 20},
        ],
        "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}],
        "annotations": [
            {"id": 1, "image_id": 10, "category_id": 7, "bbox": [4, 2, 8, 10]},
            {"id": 2, "image_id": 10, "category_id": 3, "bbox": [36, 0, 8, 5]},
            {"id": 3, "image_id": 10, "category_id": 3, "bbox": [0, 0, 4, 4], "iscrowd": 1},
        ],
    }


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "img" / "labels.json"
    path.write_text(json.dumps(document))
    return path


def _problems(path: Path) -> dict[str, str]:
    with pytest.raises(DataError) as caught:
        read_coco(path)
    return dict(caught.value.problems)


def test_reads_boxes_classes_and_split(tmp_path: Path) -> None:
    data = read_coco(_write(tmp_path, _coco(tmp_path)), split="val")
    assert data.classes == ("cat", "dog")
    a, b = data.images
    assert a.filepath == tmp_path / "img" / "a.png"
    assert a.labels == ("dog", "cat")
    assert a.boxes is not None
    np.testing.assert_allclose(a.boxes, [[0.1, 0.1, 0.2, 0.5], [0.9, 0.0, 0.1, 0.25]], atol=1e-6)
    assert b.boxes is not None
    assert b.boxes.shape == (0, 4)
    assert {image.split for image in data.images} == {"val"}


def test_without_annotations_images_are_unlabeled(tmp_path: Path) -> None:
    document = _coco(tmp_path)
    del document["annotations"]
    data = read_coco(_write(tmp_path, document), images_dir=tmp_path / "img")
    assert all(image.boxes is None for image in data.images)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "img" / "labels.json"
    path.parent.mkdir()
    path.write_text("{not json")
    assert "cannot read COCO JSON" in _problems(path)[str(path)]


def test_missing_categories(tmp_path: Path) -> None:
    document = _coco(tmp_path)
    del document["categories"]
    path = _write(tmp_path, document)
    assert _problems(path)[str(path)] == "'categories' is missing or not a list"


@pytest.mark.parametrize(
    ("annotation", "problem"),
    [
        ({"image_id": 10, "category_id": 99, "bbox": [1, 1, 2, 2]}, "category_id 99 not in"),
        ({"image_id": 55, "category_id": 7, "bbox": [1, 1, 2, 2]}, "image_id 55 is not in"),
        ({"image_id": 10, "category_id": 7, "bbox": [1, 1, 2]}, "bbox [1, 1, 2] is not"),
        ({"image_id": 10, "category_id": 7, "bbox": [1, 1, -2, 2]}, "box has non-positive"),
        ({"image_id": 10, "category_id": 7, "bbox": [50, 1, 2, 2]}, "lies entirely outside"),
    ],
)
def test_bad_annotation(tmp_path: Path, annotation: dict[str, Any], problem: str) -> None:
    document = _coco(tmp_path)
    document["annotations"] = [annotation]
    path = _write(tmp_path, document)
    found = _problems(path)[str(path)]
    assert found.startswith("annotations[0]: ")
    assert problem in found


def test_bad_images_and_size_mismatch(tmp_path: Path) -> None:
    document = _coco(tmp_path)
    (tmp_path / "img" / "a.png").write_bytes(b"GIF89a broken")
    document["images"][1]["width"] = 41
    path = _write(tmp_path, document)
    problems = _problems(path)
    assert "cannot decode image" in problems[str(tmp_path / "img" / "a.png")]
    assert "size 40x20 but" in problems[str(tmp_path / "img" / "b.png")]


def test_missing_image_file(tmp_path: Path) -> None:
    document = _coco(tmp_path)
    document["images"][0]["file_name"] = "missing.png"
    path = _write(tmp_path, document)
    assert _problems(path)[str(tmp_path / "img" / "missing.png")] == "image file does not exist"
