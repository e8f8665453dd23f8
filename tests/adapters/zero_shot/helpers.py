"""Configs and images for the zero-shot detector tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from al_object_detection.adapters.zero_shot.config import Owl2Config, parse_owl2_config


def tiny_config(weights: Path, **sections: Any) -> Owl2Config:
    """A config for the tiny model: threshold 0 (every box counts), CPU, batch 2."""
    raw: dict[str, Any] = {
        "model": {"weights": str(weights), "device": "cpu"},
        "predict": {"threshold": 0.0, "nms_iou": 0.5, "batch": 2},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values} if isinstance(values, dict) else values
    return parse_owl2_config(raw, source="owl.toml")


def write_images(folder: Path, sizes: Sequence[tuple[int, int]], seed: int = 0) -> list[str]:
    """Random-noise PNGs of the given (width, height), in order."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (width, height) in enumerate(sizes):
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        path = folder / f"image_{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths
