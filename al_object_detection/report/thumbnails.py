"""Small JPEG thumbnails, inlined as ``data:`` URIs, with the final labels and pre-labels drawn."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

FINAL_COLOUR, PRELABEL_COLOUR = (40, 200, 80), (255, 140, 0)


def thumbnail_uri(
    path: str, labels: Sequence[Any], prelabels: Sequence[Any] | None, *, size: int = 200
) -> str | None:
    """A ``data:image/jpeg;base64,...`` thumbnail of ``path``; None if it cannot be read.

    Boxes are ``(label, [x, y, w, h])`` in relative coordinates: pre-labels thin orange,
    final labels green.
    """
    from PIL import Image, ImageDraw, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return None
    scale = size / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    draw = ImageDraw.Draw(image)
    for boxes, colour, width in ((prelabels or [], PRELABEL_COLOUR, 1), (labels, FINAL_COLOUR, 2)):
        for _, (x, y, w, h) in boxes:
            draw.rectangle(
                [x * image.width, y * image.height, (x + w) * image.width, (y + h) * image.height],
                outline=colour,
                width=width,
            )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
