"""What an acceptable image is: formats, size limits and how long a file must be quiet."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

#: PIL format name -> the suffix a image store file gets.
FORMAT_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
#: File suffixes each format may arrive with.
ACCEPTED_SUFFIXES = {
    "JPEG": (".jpg", ".jpeg"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "BMP": (".bmp",),
    "TIFF": (".tif", ".tiff"),
}
#: Names that are still being written by convention: ignored until renamed.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".swp")


@dataclass(frozen=True)
class IngestRules:
    """Limits every dropped file is checked against."""

    formats: tuple[str, ...] = ("JPEG", "PNG")
    max_pixels: int = 50_000_000
    max_bytes: int = 200 * 1024 * 1024
    settle_s: float = 1.0
    grace_s: float = 30.0
    suffixes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in FORMAT_SUFFIXES]
        if unknown or not self.formats:
            raise ValueError(
                f"image formats {unknown or '[]'} not supported; choose from "
                f"{', '.join(FORMAT_SUFFIXES)}"
            )
        limit = Image.MAX_IMAGE_PIXELS or 0
        if not 0 < self.max_pixels <= limit:
            # above PIL's own limit, opening warns instead of letting these checks refuse it
            raise ValueError(f"max_pixels must lie in 1..{limit}")
        if self.max_bytes < 1 or self.settle_s < 0 or self.grace_s < 0:
            raise ValueError("max_bytes must be >= 1, settle_s and grace_s >= 0")
        suffixes = frozenset(s for f in self.formats for s in ACCEPTED_SUFFIXES[f])
        object.__setattr__(self, "suffixes", suffixes)


def ignored_name(name: str) -> bool:
    """Dot files and partial downloads: not ours to look at until they are renamed."""
    return name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES)
