"""Tiny deterministic detection fixture: solid coloured shapes on dark noise."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from al_object_detection.data.records import Boxes, DetectionData, LabeledImage
from al_object_detection.data.yolo import read_yolo, write_yolo

KINDS = ("square", "disc", "triangle")
PLACEMENT_TRIES = 20


def make_shapes(
    out_dir: Path | str,
    n_images: int = 40,
    image_size: int = 64,
    classes: Sequence[str] = ("square", "disc", "triangle"),
    seed: int = 0,
    val_fraction: float = 0.25,
    max_objects: int = 3,
) -> DetectionData:
    """Write ``n_images`` shape images in the YOLO layout under ``out_dir`` and read them back.

    Class i is drawn as the i-th of square/disc/triangle (cycling) in its own
    bright hue, 30-50% of the image wide, without overlap, so boxes are exact and
    a tiny detector learns them in a few epochs. Same seed, same bytes.
    """
    if not classes:
        raise ValueError("classes must not be empty")
    rng = np.random.default_rng(seed)
    out = Path(out_dir).absolute()
    n_val = round(n_images * val_fraction)
    val_ids = set(rng.permutation(n_images)[:n_val].tolist())
    images = []
    for index in range(n_images):
        split = "val" if index in val_ids else "pool"
        path = out / "images" / split / f"shape_{index:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels, boxes, labels = _draw(rng, image_size, classes, max_objects)
        Image.fromarray(pixels).save(path, compress_level=1)
        images.append(LabeledImage(path, image_size, image_size, boxes, labels, split, path.stem))
    write_yolo(DetectionData(tuple(classes), tuple(images)), out)
    return read_yolo(out)


def _draw(
    rng: np.random.Generator, size: int, classes: Sequence[str], max_objects: int
) -> tuple[npt.NDArray[np.uint8], Boxes, tuple[str, ...]]:
    pixels = rng.integers(0, 70, (size, size, 3), dtype=np.uint8)
    rows, cols = np.mgrid[0:size, 0:size]
    taken = np.zeros((size, size), bool)
    boxes, labels = [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        class_id = int(rng.integers(len(classes)))
        side = int(rng.integers(round(0.3 * size), round(0.5 * size) + 1))
        for _attempt in range(PLACEMENT_TRIES):
            top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
            if not taken[top : top + side, left : left + side].any():
                break
        else:
            continue
        taken[top : top + side, left : left + side] = True
        mask = _mask(KINDS[class_id % len(KINDS)], rows - top, cols - left, side)
        pixels[mask] = _colour(class_id, len(classes), rng)
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        boxes.append((x0 / size, y0 / size, (x1 - x0) / size, (y1 - y0) / size))
        labels.append(classes[class_id])
    return pixels, np.array(boxes, np.float32).reshape(-1, 4), tuple(labels)


def _mask(
    kind: str, y: npt.NDArray[np.int_], x: npt.NDArray[np.int_], side: int
) -> npt.NDArray[np.bool_]:
    inside = (y >= 0) & (y < side) & (x >= 0) & (x < side)
    if kind == "square":
        return inside
    if kind == "disc":
        radius = side / 2
        shape: npt.NDArray[np.bool_] = (y + 0.5 - radius) ** 2 + (
            x + 0.5 - radius
        ) ** 2 <= radius**2
    else:  # triangle: apex at the top centre, base along the bottom row
        shape = np.abs(x + 0.5 - side / 2) <= (y + 1) / 2
    return inside & shape


def _colour(class_id: int, n_classes: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    hue = class_id / n_classes
    red, green, blue = colorsys.hsv_to_rgb(hue, 1.0, 1.0)
    jitter = rng.integers(-20, 1, 3)
    return np.clip(np.array([red, green, blue]) * 255 + jitter, 0, 255).astype(np.uint8)
