"""Load and validate the ultralytics detector's TOML config (``config/yolo_config.toml``)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from al_object_detection.toml_files import read_toml
from al_object_detection.toml_schema import ANY, Key, Table, check

DEFAULT_CONFIG = resources.files("al_object_detection") / "config" / "yolo_config.toml"

POOLINGS = ("mean", "max")


class ConfigError(ValueError):
    """An unusable config file; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class PredictSettings:
    """How the detector predicts on the pool."""

    imgsz: int = 320
    conf: float = 0.05
    iou: float = 0.6
    max_det: int = 100
    batch: int = 16
    device: str = ""
    embedding_layer: int = 15  # YOLOv8's P3 output: bench/results/embedding_purity-*.txt
    embedding_pooling: str = "max"
    # pooled over the cells of the 5 most confident boxes (0: the whole image); see the
    # foreground table of bench/results/embedding_purity-*.txt
    embedding_boxes: int = 0


@dataclass(frozen=True)
class YoloConfig:
    """The detector's settings: ultralytics train arguments and prediction settings."""

    train: dict[str, Any] = field(default_factory=dict)
    predict: PredictSettings = field(default_factory=PredictSettings)
    source: str = "<defaults>"


_PREDICT = Table({
    "imgsz": Key(int, PredictSettings.imgsz, low=32),
    "conf": Key(float, PredictSettings.conf, low=0, high=1),
    "iou": Key(float, PredictSettings.iou, low=0, high=1),
    "max_det": Key(int, PredictSettings.max_det, low=1),
    "batch": Key(int, PredictSettings.batch, low=1),
    "device": Key(str, PredictSettings.device),
    "embedding_layer": Key(int, PredictSettings.embedding_layer),
    "embedding_pooling": Key(str, PredictSettings.embedding_pooling, choices=POOLINGS),
    "embedding_boxes": Key(int, PredictSettings.embedding_boxes, low=0),
})  # fmt: skip


def load_yolo_config(path: Path | str | None = None) -> YoloConfig:
    """Read a TOML config; ``None`` gives the shipped defaults."""
    raw, source = read_toml(path, default=DEFAULT_CONFIG, error=ConfigError)
    return parse_yolo_config(raw, source=source)


def parse_yolo_config(raw: dict[str, Any], *, source: str = "<dict>") -> YoloConfig:
    """Validate an already parsed config mapping."""
    train = Table(dict.fromkeys(_ultralytics_train_keys(), ANY), allowed="see `yolo cfg`")
    values = check(raw, {"train": train, "predict": _PREDICT}, source=source, error=ConfigError)
    return YoloConfig(
        train=values["train"], predict=PredictSettings(**values["predict"]), source=source
    )


def ultralytics_dir() -> Path:
    """The installed ultralytics package's folder, found without importing it (nor torch)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("ultralytics is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _ultralytics_train_keys() -> frozenset[str]:
    """ultralytics' own argument list: the keys of its ``cfg/default.yaml``."""
    import yaml

    return frozenset(yaml.safe_load((ultralytics_dir() / "cfg" / "default.yaml").read_text()))
