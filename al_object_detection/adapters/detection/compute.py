"""Where the pool is predicted: in this process, or on a Ray cluster (``[compute]`` in alod.toml).

``backend = "ray"`` runs the predicting step as Ray Data ``map_batches`` over actors that each
hold the detector (see :mod:`ray_predict`); Ray is an optional extra, checked when the config
is read so a missing install stops the start with a message naming the extra.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from al_object_detection.toml_schema import Key, Table

if TYPE_CHECKING:
    from al_object_detection.adapters.detection.protocol import TrainableDetector
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

BACKENDS = ("local", "ray")
RAY_EXTRA = "pip install 'al-object-detection[ray]'"
#: "local": an in-process Ray; "auto": the cluster this host joined; else a Ray address.
_ADDRESS = re.compile(r"^(local|auto|ray://[^\s/:]+:\d+|[^\s/:]+:\d+)$")


@dataclass(frozen=True)
class ComputeSettings:
    """How the pool is predicted; the Ray keys only matter with ``backend = "ray"``."""

    backend: str = "local"
    address: str = "local"
    num_cpus: float = 1.0  # per actor
    num_gpus: float = 1.0  # per actor, when the cluster has GPUs (CPU actors otherwise)
    batch_size: int = 32  # images per actor call
    shard_size: int = 1000  # images per prediction intent: what a killed driver redoes at most


_DEFAULTS = ComputeSettings()
TABLE = Table({
    "backend": Key(str, _DEFAULTS.backend, choices=BACKENDS),
    "address": Key(str, _DEFAULTS.address),
    "num_cpus": Key(float, _DEFAULTS.num_cpus, low=0.01),
    "num_gpus": Key(float, _DEFAULTS.num_gpus, low=0),
    "batch_size": Key(int, _DEFAULTS.batch_size, low=1),
    "shard_size": Key(int, _DEFAULTS.shard_size, low=1),
})  # fmt: skip


def compute_settings(
    values: dict[str, Any], *, where: str, error: type[ValueError]
) -> ComputeSettings:
    """Settings from the checked ``[compute]`` values; ``where`` names the section in errors."""
    settings = ComputeSettings(**values)
    if not _ADDRESS.match(settings.address):
        raise error(
            f"{where} address = {settings.address!r}; allowed: local (a Ray in this process), "
            "auto (the cluster this host joined), ray://HOST:PORT or HOST:PORT"
        )
    if settings.backend == "ray" and not ray_installed():
        raise error(f"{where} backend = 'ray' needs Ray, which is not installed: {RAY_EXTRA}")
    return settings


def ray_installed() -> bool:
    """Whether Ray can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def on_backend(detector: YOLOv8_ALObjectDetector, settings: ComputeSettings) -> TrainableDetector:
    """``detector`` as the settings want it to predict: as is, or on Ray."""
    if settings.backend == "local":
        return detector
    from al_object_detection.adapters.detection.ray_predict import RayDetector

    return RayDetector(detector, settings)
