"""Locate real photographs shipped inside installed packages, for backgrounds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# (package, folder inside it, photo file names); natural photos only, no
# synthetic images and only one of each stereo pair.
_SOURCES = (
    (
        "skimage",
        "data",
        (
            "astronaut.png",
            "brick.png",
            "camera.png",
            "chelsea.png",
            "coffee.png",
            "coins.png",
            "grass.png",
            "gravel.png",
            "hubble_deep_field.jpg",
            "moon.png",
            "motorcycle_left.png",
            "rocket.jpg",
        ),
    ),
    ("sklearn", "datasets/images", ("china.jpg", "flower.jpg")),
)


def package_photos() -> list[Path]:
    """Paths of the photos found in installed scikit-image and scikit-learn (not imported)."""
    photos = []
    for package, folder, names in _SOURCES:
        spec = importlib.util.find_spec(package)
        locations = spec.submodule_search_locations if spec is not None else None
        for location in locations or ():
            photos += [p for p in (Path(location) / folder / n for n in names) if p.is_file()]
    if not photos:
        raise FileNotFoundError(
            "no background photos found: install scikit-image or scikit-learn, "
            "or pass background photo paths explicitly"
        )
    return photos
