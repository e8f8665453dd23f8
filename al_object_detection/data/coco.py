"""Read COCO detection annotations (images, annotations, categories).

Boxes are COCO ``[x, y, w, h]`` in pixels of the image size given in the JSON,
which must match the image file. Classes are the category names ordered by
category id. Crowd annotations (``iscrowd: 1``) are skipped. Without an
``annotations`` key every image is unlabeled; with it, an image with no
annotation is labeled with no objects. Boxes partly outside are clipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from al_object_detection.data.records import (
    DataError,
    DetectionData,
    LabeledImage,
    raise_problems,
)
from al_object_detection.data.validate import clip_box, image_size

Problems = list[tuple[Path | str, str]]


def read_coco(
    annotations_json: Path | str, images_dir: Path | str | None = None, split: str = "pool"
) -> DetectionData:
    """Read and validate a COCO file; DataError lists every problem found.

    ``file_name`` entries are relative to ``images_dir``, which defaults to the
    JSON's folder, or its ``data/`` subfolder when present (FiftyOne's export layout).
    """
    json_path = Path(annotations_json).absolute()
    document = _load(json_path)
    base = Path(images_dir).absolute() if images_dir is not None else _default_images_dir(json_path)
    problems: Problems = []
    categories = _categories(json_path, document, problems)
    classes = tuple(name for _, name in sorted(categories.items()))
    entries = _image_entries(json_path, document, problems)
    annotated = "annotations" in document
    boxes_by_image = _annotations(json_path, document, categories, entries, problems)
    images = []
    for image_id, (file_name, width, height) in entries.items():
        path = base / file_name
        try:
            actual = image_size(path)
        except DataError as error:
            problems.extend(error.problems)
            continue
        if actual != (width, height):
            size = f"{actual[0]}x{actual[1]}"
            problems.append((path, f"size {size} but {json_path} says {width}x{height}"))
            continue
        found = boxes_by_image.get(image_id, [])
        boxes = np.array([box for box, _ in found], np.float32).reshape(-1, 4)
        labels = tuple(label for _, label in found)
        images.append(
            LabeledImage(
                path, width, height, boxes if annotated else None, labels, split, path.stem
            )
        )
    raise_problems(problems)
    return DetectionData(classes, tuple(images))


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(path, f"cannot read COCO JSON ({error})") from None
    if not isinstance(document, dict):
        raise DataError(path, "COCO JSON must be an object with 'images' and 'categories'")
    for key in ("images", "categories"):
        if not isinstance(document.get(key), list):
            raise DataError(path, f"'{key}' is missing or not a list")
    if not isinstance(document.get("annotations", []), list):
        raise DataError(path, "'annotations' is not a list")
    return document


def _default_images_dir(json_path: Path) -> Path:
    data_dir = json_path.parent / "data"
    return data_dir if data_dir.is_dir() else json_path.parent


def _categories(path: Path, document: dict[str, Any], problems: Problems) -> dict[int, str]:
    categories: dict[int, str] = {}
    for index, entry in enumerate(document["categories"]):
        cat_id = entry.get("id") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(cat_id, int) or not isinstance(name, str) or not name:
            problems.append((path, f"categories[{index}]: needs an integer 'id' and a 'name'"))
        elif cat_id in categories or name in categories.values():
            problems.append((path, f"categories[{index}]: duplicate id {cat_id} or name {name!r}"))
        else:
            categories[cat_id] = name
    return categories


def _image_entries(
    path: Path, document: dict[str, Any], problems: Problems
) -> dict[int, tuple[str, int, int]]:
    entries: dict[int, tuple[str, int, int]] = {}
    for index, entry in enumerate(document["images"]):
        fields = entry if isinstance(entry, dict) else {}
        image_id, width, height = (fields.get(key) for key in ("id", "width", "height"))
        file_name = fields.get("file_name")
        if not (
            isinstance(image_id, int)
            and isinstance(width, int)
            and isinstance(height, int)
            and isinstance(file_name, str)
            and width > 0
            and height > 0
        ):
            problems.append(
                (path, f"images[{index}]: needs integer id, positive width/height, file_name")
            )
        elif image_id in entries:
            problems.append((path, f"images[{index}]: duplicate image id {image_id}"))
        else:
            entries[image_id] = (file_name, width, height)
    return entries


def _annotations(
    path: Path,
    document: dict[str, Any],
    categories: dict[int, str],
    entries: dict[int, tuple[str, int, int]],
    problems: Problems,
) -> dict[int, list[tuple[tuple[float, ...], str]]]:
    found: dict[int, list[tuple[tuple[float, ...], str]]] = {}
    for index, entry in enumerate(document.get("annotations", [])):
        try:
            image_id, box, label = _annotation(entry, categories, entries)
        except ValueError as error:
            problems.append((path, f"annotations[{index}]: {error}"))
            continue
        if label:
            found.setdefault(image_id, []).append((box, label))
    return found


def _annotation(
    entry: object, categories: dict[int, str], entries: dict[int, tuple[str, int, int]]
) -> tuple[int, tuple[float, ...], str]:
    """(image id, relative clipped box, label); label is empty for skipped crowd boxes."""
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    image_id, cat_id, bbox = entry.get("image_id"), entry.get("category_id"), entry.get("bbox")
    if image_id not in entries:
        raise ValueError(f"image_id {image_id!r} is not in 'images'")
    if cat_id not in categories:
        raise ValueError(f"category_id {cat_id!r} not in categories {sorted(categories)}")
    if entry.get("iscrowd", 0):
        return image_id, (), ""
    if not (isinstance(bbox, list) and len(bbox) == 4) or not all(
        isinstance(value, int | float) for value in bbox
    ):
        raise ValueError(f"bbox {bbox!r} is not [x, y, w, h] numbers")
    _, width, height = entries[image_id]
    x, y, w, h = bbox
    return image_id, clip_box(x / width, y / height, w / width, h / height), categories[cat_id]
