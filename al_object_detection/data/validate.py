"""Checks shared by the readers: image decoding and box normalisation."""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

from PIL import Image

from al_object_detection.data.records import DataError

IMAGE_SUFFIXES = frozenset({".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"})

_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def image_size(path: Path) -> tuple[int, int]:
    """Fully decode an image and return (width, height); DataError if it cannot be read.

    Images above PIL's ``Image.MAX_IMAGE_PIXELS`` are rejected as decompression bombs.
    """
    if not path.is_file():
        raise DataError(path, "image file does not exist")
    if path.stat().st_size == 0:
        raise DataError(path, "image file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                width, height = image.size
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except _DECODE_ERRORS as error:
        raise DataError(path, f"cannot decode image ({type(error).__name__}: {error})") from None
    return width, height


def clip_box(x_min: float, y_min: float, width: float, height: float) -> tuple[float, ...]:
    """Clip a relative [x, y, w, h] box to [0, 1]; ValueError if it is invalid.

    Boxes partially outside the image are clipped; boxes with non-positive size,
    non-finite values or no area inside the image are rejected.
    """
    values = (x_min, y_min, width, height)
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f"box has non-finite values {values}")
    if width <= 0 or height <= 0:
        raise ValueError(f"box has non-positive size (w={width:g}, h={height:g})")
    x0, y0 = max(x_min, 0.0), max(y_min, 0.0)
    x1, y1 = min(x_min + width, 1.0), min(y_min + height, 1.0)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {values} lies entirely outside the image")
    return (x0, y0, x1 - x0, y1 - y0)
