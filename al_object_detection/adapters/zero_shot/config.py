"""Load and validate the zero-shot detector's TOML config (``config/owl2_config.toml``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.toml_files import read_toml

DEFAULT_CONFIG = resources.files("al_object_detection") / "config" / "owl2_config.toml"

_SECTIONS = ("model", "predict", "classes", "examples")
_MODEL_KEYS = ("weights", "device")
_PREDICT_KEYS = ("threshold", "nms_iou", "max_det", "batch", "image_size")
_CLASS_KEYS = ("names", "templates", "synonyms", "prompts")
_EXAMPLE_KEYS = ("class", "image", "box")


@dataclass(frozen=True)
class PredictSettings:
    """How the zero-shot detector predicts."""

    threshold: float = 0.1
    nms_iou: float = 0.3
    max_det: int = 100
    batch: int = 4
    image_size: int | None = None  # None: the model's own input size


@dataclass(frozen=True)
class ClassQueries:
    """Where the text queries come from: class names, templates, synonyms, literal prompts."""

    names: tuple[str, ...] = ()
    templates: tuple[str, ...] = ("a photo of a {}",)
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prompts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExampleBox:
    """An image-guided query: one box around an example of a class."""

    class_name: str
    image: Path
    box_xyxy: tuple[float, float, float, float]  # pixels


@dataclass(frozen=True)
class Owl2Config:
    """The zero-shot detector's settings."""

    weights: str = "google/owlv2-base-patch16-ensemble"
    device: str = ""
    predict: PredictSettings = field(default_factory=PredictSettings)
    classes: ClassQueries = field(default_factory=ClassQueries)
    examples: tuple[ExampleBox, ...] = ()
    base_dir: Path = field(default_factory=Path)  # relative weights and example paths start here
    source: str = "<defaults>"


def load_owl2_config(path: Path | str | None = None) -> Owl2Config:
    """Read a TOML config; ``None`` gives the shipped defaults."""
    raw, source = read_toml(path, default=DEFAULT_CONFIG, error=ConfigError)
    base_dir = Path(path).parent if path is not None else Path()
    return parse_owl2_config(raw, source=source, base_dir=base_dir)


def parse_owl2_config(
    raw: Mapping[str, Any], *, source: str = "<dict>", base_dir: Path | str = "."
) -> Owl2Config:
    """Validate an already parsed config mapping."""
    _reject_unknown(raw, _SECTIONS, f"{source}: unknown section")
    model = _table(raw, "model", source)
    _reject_unknown(model, _MODEL_KEYS, f"{source}: unknown key in [model]")
    weights = model.get("weights", Owl2Config.weights)
    if not isinstance(weights, str) or not weights.strip():
        raise ConfigError(
            f"{source}: [model] weights = {weights!r} must be a weights folder or a hub id"
        )
    device = model.get("device", "")
    if not isinstance(device, str):
        raise ConfigError(f"{source}: [model] device = {device!r} must be str")
    return Owl2Config(
        weights=weights,
        device=device,
        predict=_predict(_table(raw, "predict", source), source),
        classes=_class_queries(_table(raw, "classes", source), source),
        examples=_examples(raw.get("examples", []), source, Path(base_dir)),
        base_dir=Path(base_dir),
        source=source,
    )


def _predict(raw: Mapping[str, Any], source: str) -> PredictSettings:
    _reject_unknown(raw, _PREDICT_KEYS, f"{source}: unknown key in [predict]")
    for key, value in raw.items():
        numeric = (int, float) if key in ("threshold", "nms_iou") else (int,)
        if isinstance(value, bool) or not isinstance(value, numeric):
            kind = " or ".join(t.__name__ for t in numeric)
            raise ConfigError(f"{source}: [predict] {key} = {value!r} must be {kind}")
    settings = PredictSettings(**raw)
    for key in ("threshold", "nms_iou"):
        if not 0.0 <= getattr(settings, key) <= 1.0:
            raise ConfigError(f"{source}: [predict] {key} must lie in [0, 1]")
    for key, low in (("max_det", 1), ("batch", 1), ("image_size", 16)):
        value = getattr(settings, key)
        if value is not None and value < low:
            raise ConfigError(f"{source}: [predict] {key} = {value} must be >= {low}")
    return settings


def _class_queries(raw: Mapping[str, Any], source: str) -> ClassQueries:
    _reject_unknown(raw, _CLASS_KEYS, f"{source}: unknown key in [classes]")
    names = _strings(raw.get("names", []), f"{source}: [classes] names")
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: [classes] names has duplicates: {list(names)}")
    templates = _strings(
        raw.get("templates", list(ClassQueries.templates)), f"{source}: [classes] templates"
    )
    for template in templates:
        if "{}" not in template:
            raise ConfigError(
                f"{source}: [classes] templates: {template!r} has no '{{}}' for the class name"
            )
    return ClassQueries(
        names=names,
        templates=templates,
        synonyms=_per_class(raw.get("synonyms", {}), f"{source}: [classes.synonyms]"),
        prompts=_per_class(raw.get("prompts", {}), f"{source}: [classes.prompts]"),
    )


def _examples(raw: Any, source: str, base_dir: Path) -> tuple[ExampleBox, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"{source}: examples must be an array of tables ([[examples]])")
    examples = []
    for i, item in enumerate(raw):
        where = f"{source}: [[examples]] #{i + 1}"
        _reject_unknown(item, _EXAMPLE_KEYS, f"{where}: unknown key")
        missing = [key for key in _EXAMPLE_KEYS if key not in item]
        if missing:
            raise ConfigError(
                f"{where}: missing {', '.join(missing)} (required: class, image, box)"
            )
        (class_name,) = _strings([item["class"]], f"{where} class")
        (image,) = _strings([item["image"]], f"{where} image")
        box = item["box"]
        numbers = isinstance(box, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in box
        )
        if not numbers or len(box) != 4 or not 0 <= box[0] < box[2] or not 0 <= box[1] < box[3]:
            raise ConfigError(
                f"{where}: box = {box!r} must be [x_min, y_min, x_max, y_max] in pixels, "
                "with 0 <= x_min < x_max and 0 <= y_min < y_max"
            )
        x_min, y_min, x_max, y_max = (float(v) for v in box)
        examples.append(ExampleBox(class_name, base_dir / image, (x_min, y_min, x_max, y_max)))
    return tuple(examples)


def _per_class(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of class name = [strings]")
    return {name: _strings(values, f"{where} {name}") for name, values in raw.items()}


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ConfigError(f"{where} = {raw!r} must be a list of strings")
    if any(not v.strip() for v in raw):
        raise ConfigError(f"{where}: an empty string is not a usable prompt or name")
    return tuple(v.strip() for v in raw)


def _table(raw: Mapping[str, Any], section: str, source: str) -> Mapping[str, Any]:
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{section}] must be a table")
    return table


def _reject_unknown(raw: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
    known = list(allowed)
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{prefix} {key!r}{hint} (allowed: {', '.join(sorted(known))})")
