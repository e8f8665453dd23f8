"""Load and validate the ultralytics detector's TOML config (``config/yolo_config.toml``)."""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from al_object_detection.toml_files import read_toml

DEFAULT_CONFIG = resources.files("al_object_detection") / "config" / "yolo_config.toml"

_PREDICT_KEYS: dict[str, type | tuple[type, ...]] = {
    "imgsz": int,
    "conf": (int, float),
    "iou": (int, float),
    "max_det": int,
    "batch": int,
    "device": str,
    "embedding_layer": int,
    "embedding_pooling": str,
    "embedding_boxes": int,
}
POOLINGS = ("mean", "max")
_SECTIONS = ("train", "predict")


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
    embedding_boxes: int = 5


@dataclass(frozen=True)
class YoloConfig:
    """The detector's settings: ultralytics train arguments and prediction settings."""

    train: dict[str, Any] = field(default_factory=dict)
    predict: PredictSettings = field(default_factory=PredictSettings)
    source: str = "<defaults>"


def load_yolo_config(path: Path | str | None = None) -> YoloConfig:
    """Read a TOML config; ``None`` gives the shipped defaults."""
    raw, source = read_toml(path, default=DEFAULT_CONFIG, error=ConfigError)
    return parse_yolo_config(raw, source=source)


def parse_yolo_config(raw: dict[str, Any], *, source: str = "<dict>") -> YoloConfig:
    """Validate an already parsed config mapping."""
    _reject_unknown(raw, _SECTIONS, source, "section")
    train = dict(raw.get("train", {}))
    _reject_unknown(train, _ultralytics_train_keys(), source, "key in [train]")
    predict_raw = dict(raw.get("predict", {}))
    _reject_unknown(predict_raw, _PREDICT_KEYS, source, "key in [predict]")
    for key, value in predict_raw.items():
        expected = _PREDICT_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ConfigError(
                f"{source}: [predict] {key} = {value!r} must be {_type_name(expected)}"
            )
    predict = PredictSettings(**predict_raw)
    if not 0.0 <= predict.conf <= 1.0 or not 0.0 <= predict.iou <= 1.0:
        raise ConfigError(f"{source}: [predict] conf and iou must lie in [0, 1]")
    if predict.embedding_pooling not in POOLINGS:
        raise ConfigError(f"{source}: [predict] embedding_pooling must be one of {POOLINGS}")
    if predict.embedding_boxes < 0:
        raise ConfigError(f"{source}: [predict] embedding_boxes must be >= 0")
    if predict.imgsz < 32 or predict.batch < 1 or predict.max_det < 1:
        raise ConfigError(f"{source}: [predict] imgsz >= 32, batch >= 1, max_det >= 1 are required")
    return YoloConfig(train=train, predict=predict, source=source)


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


def _reject_unknown(raw: dict[str, Any], allowed: Any, source: str, what: str) -> None:
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(allowed)) if len(allowed) < 12 else "see `yolo cfg`"
            raise ConfigError(f"{source}: unknown {what} {key!r}{hint} (allowed: {known})")


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(t.__name__ for t in types)
