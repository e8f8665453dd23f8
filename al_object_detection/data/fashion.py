"""Fashion-MNIST items pasted onto real photos: a detection set with controllable class mix.

Each image is a random square crop of a background photo, resized, with
Fashion-MNIST items (scaled from 28 px to 40..120 px at 320 px images) pasted
using the item's own intensity as alpha. A box is the tight bounding box of the
item's nonzero alpha, so it is exact; items overlap by at most ``max_overlap``
of the smaller box. Groups are background photos, and splits follow groups when
there are at least two photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from al_object_detection.data.fashion_mnist import CLASSES, load_fashion_mnist
from al_object_detection.data.photos import package_photos
from al_object_detection.data.records import DetectionData, LabeledImage
from al_object_detection.data.yolo import read_yolo, write_yolo

LONG_TAIL_EXPONENT = 1.5  # "long_tail": weight of class k is 1 / (k + 1) ** 1.5
ALPHA_FLOOR = 16  # resized item intensities below this are fully transparent
ALPHA_FULL = 96  # intensities at or above this are fully opaque
PLACEMENT_TRIES = 20

Array = npt.NDArray[np.float64]


def make_fashion(
    out_dir: Path | str,
    n_images: int,
    seed: int = 0,
    image_size: int = 320,
    class_weights: Sequence[float] | str | None = None,
    objects_per_image: tuple[int, int] = (1, 4),
    val_fraction: float = 0.2,
    mnist_dir: Path | str | None = None,
    backgrounds: Sequence[Path] | None = None,
    image_format: str = "jpg",
    max_overlap: float = 0.1,
) -> DetectionData:
    """Write ``n_images`` composites in the YOLO layout under ``out_dir`` and read them back.

    class_weights: None (uniform), "long_tail" (Zipf-like, T-shirt/top most
    common, Ankle boot rarest) or ten non-negative weights, per object.
    backgrounds: photo files; default the photos shipped with scikit-image and
    scikit-learn. mnist_dir: folder of the Fashion-MNIST IDX files.
    """
    if image_format not in ("jpg", "png"):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    rng = np.random.default_rng(seed)
    items, item_labels = load_fashion_mnist(mnist_dir)
    by_class = [np.flatnonzero(item_labels == k) for k in range(len(CLASSES))]
    probs = class_probabilities(class_weights)
    photo_paths = list(backgrounds) if backgrounds is not None else package_photos()
    photos = [_load_photo(path) for path in photo_paths]
    val_photos = _val_photos(len(photos), val_fraction, rng)
    out = Path(out_dir).absolute()
    images = []
    for index in range(n_images):
        photo_id = int(rng.integers(len(photos)))
        if len(photos) > 1:
            split = "val" if photo_id in val_photos else "pool"
        else:
            split = "val" if rng.random() < val_fraction else "pool"
        canvas = _crop(photos[photo_id], image_size, rng)
        n_objects = int(rng.integers(objects_per_image[0], objects_per_image[1] + 1))
        boxes: list[tuple[int, int, int, int]] = []
        labels = []
        for _ in range(n_objects):
            class_id = int(rng.choice(len(CLASSES), p=probs))
            item = items[int(rng.choice(by_class[class_id]))]
            box = _paste(canvas, item, boxes, max_overlap, rng)
            if box is not None:
                boxes.append(box)
                labels.append(CLASSES[class_id])
        path = out / "images" / split / f"fashion_{index:05d}.{image_format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.rint(canvas).astype(np.uint8)).save(path, quality=92)
        relative = np.array(boxes, np.float32).reshape(-1, 4) / np.float32(image_size)
        relative[:, 2:] -= relative[:, :2]
        group = photo_paths[photo_id].stem
        images.append(
            LabeledImage(path, image_size, image_size, relative, tuple(labels), split, group)
        )
    write_yolo(DetectionData(CLASSES, tuple(images)), out)
    return read_yolo(out)


def class_probabilities(class_weights: Sequence[float] | str | None) -> Array:
    """Per-object class probabilities from None, "long_tail" or ten weights."""
    weights: Array
    if class_weights is None:
        weights = np.ones(len(CLASSES))
    elif isinstance(class_weights, str):
        if class_weights != "long_tail":
            raise ValueError(f"class_weights must be 'long_tail' or weights, got {class_weights!r}")
        weights = np.arange(1, len(CLASSES) + 1, dtype=np.float64) ** -LONG_TAIL_EXPONENT
    else:
        weights = np.asarray(class_weights, np.float64)
    if weights.shape != (len(CLASSES),) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"class_weights must be {len(CLASSES)} non-negative weights, not all 0")
    return np.asarray(weights / weights.sum(), np.float64)


def _load_photo(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def _val_photos(n_photos: int, val_fraction: float, rng: np.random.Generator) -> set[int]:
    if n_photos < 2 or val_fraction <= 0:
        return set()
    n_val = min(n_photos - 1, max(1, round(val_fraction * n_photos)))
    return set(rng.choice(n_photos, n_val, replace=False).tolist())


def _crop(photo: Image.Image, size: int, rng: np.random.Generator) -> Array:
    """A random square crop (half to all of the short side) resized to size x size."""
    short = min(photo.size)
    side = int(rng.integers(short // 2, short + 1))
    left = int(rng.integers(photo.size[0] - side + 1))
    top = int(rng.integers(photo.size[1] - side + 1))
    crop = photo.resize(
        (size, size), Image.Resampling.BILINEAR, (left, top, left + side, top + side)
    )
    return np.asarray(crop, np.float64)


def _paste(
    canvas: Array,
    item: npt.NDArray[np.uint8],
    taken: list[tuple[int, int, int, int]],
    max_overlap: float,
    rng: np.random.Generator,
) -> tuple[int, int, int, int] | None:
    """Paste a tinted item in place; its pixel box (x0, y0, x1, y1), or None if it found no room."""
    size = canvas.shape[0]
    scale = size / 320
    side = int(rng.integers(round(40 * scale), round(120 * scale) + 1))
    resized = np.asarray(Image.fromarray(item).resize((side, side), Image.Resampling.BILINEAR))
    alpha = np.where(resized >= ALPHA_FLOOR, np.minimum(resized / ALPHA_FULL, 1.0), 0.0)
    ys, xs = np.nonzero(alpha)
    if ys.size == 0:
        return None
    local = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    for _ in range(PLACEMENT_TRIES):
        left, top = (int(v) for v in rng.integers(0, size - side + 1, 2))
        box = (left + local[0], top + local[1], left + local[2], top + local[3])
        if all(_overlap(box, other) <= max_overlap for other in taken):
            break
    else:
        return None
    tint = rng.uniform(0.3, 1.0, 3) * 255
    colour = tint * (0.4 + 0.6 * resized[..., None] / 255)
    region = canvas[top : top + side, left : left + side]
    region += alpha[..., None] * (colour - region)
    return box


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection area over the smaller box's area."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / smaller
