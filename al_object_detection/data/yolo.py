"""Write and read datasets in the ultralytics YOLO folder layout.

Layout: ``root/images/<split>/...``, ``root/labels/<split>/<stem>.txt`` with one
``class cx cy w h`` line per box (relative to the image size), classes in
``root/data.yaml`` (or ``dataset.yaml`` or ``classes.txt``), and source groups in
``root/groups.json`` (an image with no group there, or an empty one, reads back with its
file stem).
Split folders val/valid/validation/test read as "val", any other folder (train,
pool, ...) and a flat ``images/`` as "pool". An image without a label file is
unlabeled; an empty label file means labeled with no objects. Boxes partly
outside the image are clipped to it; all problems are reported in one DataError.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from al_object_detection.data.names_yaml import format_data_yaml, parse_names
from al_object_detection.data.records import (
    Boxes,
    DataError,
    DetectionData,
    LabeledImage,
    raise_problems,
)
from al_object_detection.data.validate import IMAGE_SUFFIXES, clip_box, image_size

VAL_FOLDERS = frozenset({"val", "valid", "validation", "test"})
SPLIT_KEYS = {"pool": "train", "val": "val"}
GROUPS_FILE = "groups.json"
CLASS_LIST_FILES = ("data.yaml", "dataset.yaml", "classes.txt")  # dataset.yaml: FiftyOne's export

Problems = list[tuple[Path | str, str]]


def write_yolo(data: DetectionData, root: Path | str) -> None:
    """Write ``data`` under ``root``, copying images into ``images/<split>/``."""
    root = Path(root).absolute()
    targets = [root / "images" / image.split / image.filepath.name for image in data.images]
    for target, count in Counter(t.with_suffix("") for t in targets).items():
        if count > 1:
            raise DataError(target, f"{count} images would share this file stem in one split")
    class_ids = {name: index for index, name in enumerate(data.classes)}
    groups = {}
    for image, target in zip(data.images, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.exists() and target.samefile(image.filepath)):
            shutil.copyfile(image.filepath, target)
        label = root / "labels" / image.split / f"{target.stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        if image.boxes is None:
            label.unlink(missing_ok=True)
        else:
            label.write_text(_label_text(image.boxes, image.labels, class_ids))
        if image.group:
            groups[target.relative_to(root).as_posix()] = image.group
    present = {image.split for image in data.images}
    splits = {key: f"images/{split}" for split, key in SPLIT_KEYS.items() if split in present}
    (root / "data.yaml").write_text(format_data_yaml(data.classes, splits))
    (root / GROUPS_FILE).write_text(json.dumps(groups, indent=1, sort_keys=True) + "\n")


def read_yolo(root: Path | str) -> DetectionData:
    """Read and validate a YOLO folder; DataError lists every problem found."""
    root = Path(root).absolute()
    images_dir = root / "images"
    if not images_dir.is_dir():
        raise DataError(root, "no 'images' folder")
    problems: Problems = []
    classes = _read_classes(root, problems)
    paths = sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    label_paths = [root / "labels" / p.relative_to(images_dir).with_suffix(".txt") for p in paths]
    for label, count in Counter(label_paths).items():
        if count > 1:
            problems.append((label, f"{count} images share this label file (same stem)"))
    _report_orphan_labels(root, set(label_paths), problems)
    groups = _read_groups(root, problems)
    images = []
    for path, label in zip(paths, label_paths, strict=True):
        try:
            width, height = image_size(path)
        except DataError as error:
            problems.extend(error.problems)
            continue
        boxes, labels = _read_label(label, classes, problems) if label.exists() else (None, ())
        split = _split_of(path.relative_to(images_dir))
        group = groups.get(path.relative_to(root).as_posix(), path.stem)
        images.append(LabeledImage(path, width, height, boxes, labels, split, group))
    raise_problems(problems)
    return DetectionData(classes, tuple(images))


def _split_of(relative: Path) -> str:
    folder = relative.parts[0].lower() if len(relative.parts) > 1 else ""
    return "val" if folder in VAL_FOLDERS else "pool"


def _label_text(boxes: Boxes, labels: tuple[str, ...], class_ids: dict[str, int]) -> str:
    lines = []
    for box, name in zip(boxes.astype(np.float64).tolist(), labels, strict=True):
        x, y, w, h = box
        lines.append(f"{class_ids[name]} {x + w / 2:.7f} {y + h / 2:.7f} {w:.7f} {h:.7f}")
    return "".join(line + "\n" for line in lines)


def _read_classes(root: Path, problems: Problems) -> tuple[str, ...]:
    candidates = [root / name for name in CLASS_LIST_FILES] + [root / "labels" / "classes.txt"]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            names = parse_names(text) if path.suffix == ".yaml" else _parse_classes_txt(text)
        except (ValueError, OSError) as error:
            problems.append((path, f"bad class list: {error}"))
            return ()
        return names
    expected = "data.yaml or dataset.yaml (with 'names'), or classes.txt"
    problems.append((root, f"no class list: expected {expected}"))
    return ()


def _parse_classes_txt(text: str) -> tuple[str, ...]:
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise ValueError("no class names")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate class names: {names}")
    return names


def _read_label(
    path: Path, classes: tuple[str, ...], problems: Problems
) -> tuple[Boxes, tuple[str, ...]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append((path, f"cannot read label file ({error})"))
        return np.zeros((0, 4), np.float32), ()
    boxes, labels = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            label, box = _parse_line(fields, classes)
        except ValueError as error:
            problems.append((path, f"line {number}: {error}"))
            continue
        boxes.append(box)
        labels.append(label)
    return np.array(boxes, np.float32).reshape(-1, 4), tuple(labels)


def _parse_line(fields: list[str], classes: tuple[str, ...]) -> tuple[str, tuple[float, ...]]:
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields 'class cx cy w h', got {len(fields)}")
    if not fields[0].isdigit():
        raise ValueError(f"class id {fields[0]!r} is not a non-negative integer")
    class_id = int(fields[0])
    if class_id >= len(classes):
        raise ValueError(f"class id {class_id} not in classes (0..{len(classes) - 1})")
    try:
        cx, cy, w, h = (float(field) for field in fields[1:])
    except ValueError:
        raise ValueError(f"box values {fields[1:]} are not numbers") from None
    return classes[class_id], clip_box(cx - w / 2, cy - h / 2, w, h)


def _report_orphan_labels(root: Path, expected: set[Path], problems: Problems) -> None:
    labels_dir = root / "labels"
    if not labels_dir.is_dir():
        return
    for path in sorted(labels_dir.rglob("*.txt")):
        if path not in expected and path.name != "classes.txt":
            problems.append((path, "label file has no matching image in 'images'"))


def _read_groups(root: Path, problems: Problems) -> dict[str, str]:
    path = root / GROUPS_FILE
    if not path.is_file():
        return {}
    try:
        groups = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append((path, f"cannot read groups ({error})"))
        return {}
    if not isinstance(groups, dict) or not all(isinstance(v, str) for v in groups.values()):
        problems.append((path, "groups must be a JSON object of image path to group name"))
        return {}
    return groups
