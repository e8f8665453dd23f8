"""Load and validate the zero-shot detector's TOML config (``config/owl2_config.toml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.toml_files import read_toml
from al_object_detection.toml_schema import Key, Table, check

DEFAULT_CONFIG = resources.files("al_object_detection") / "config" / "owl2_config.toml"


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


_TABLES = {
    "model": Table({"weights": Key(str, Owl2Config.weights), "device": Key(str, "")}),
    "predict": Table({
        "threshold": Key(float, PredictSettings.threshold, low=0, high=1),
        "nms_iou": Key(float, PredictSettings.nms_iou, low=0, high=1),
        "max_det": Key(int, PredictSettings.max_det, low=1),
        "batch": Key(int, PredictSettings.batch, low=1),
        "image_size": Key(int, None, low=16),
    }),
    "classes": Table({
        "names": Key(list, []),
        "templates": Key(list, list(ClassQueries.templates)),
        "synonyms": Key(dict, {}),
        "prompts": Key(dict, {}),
    }),
    "examples": Table({"class": Key(str), "image": Key(str), "box": Key(list)}, array=True),
}  # fmt: skip


def load_owl2_config(path: Path | str | None = None) -> Owl2Config:
    """Read a TOML config; ``None`` gives the shipped defaults."""
    raw, source = read_toml(path, default=DEFAULT_CONFIG, error=ConfigError)
    base_dir = Path(path).parent if path is not None else Path()
    return parse_owl2_config(raw, source=source, base_dir=base_dir)


def parse_owl2_config(
    raw: Mapping[str, Any], *, source: str = "<dict>", base_dir: Path | str = "."
) -> Owl2Config:
    """Validate an already parsed config mapping."""
    values = check(raw, _TABLES, source=source, error=ConfigError)
    weights = values["model"]["weights"]
    if not weights.strip():
        raise ConfigError(
            f"{source}: [model] weights = {weights!r} must be a weights folder or a hub id"
        )
    return Owl2Config(
        weights=weights,
        device=values["model"]["device"],
        predict=PredictSettings(**values["predict"]),
        classes=_class_queries(values["classes"], source),
        examples=_examples(values["examples"], source, Path(base_dir)),
        base_dir=Path(base_dir),
        source=source,
    )


def _class_queries(values: Mapping[str, Any], source: str) -> ClassQueries:
    names = _strings(values["names"], f"{source}: [classes] names")
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: [classes] names has duplicates: {list(names)}")
    templates = _strings(values["templates"], f"{source}: [classes] templates")
    for template in templates:
        if "{}" not in template:
            raise ConfigError(
                f"{source}: [classes] templates: {template!r} has no '{{}}' for the class name"
            )
    return ClassQueries(
        names=names,
        templates=templates,
        synonyms=_per_class(values["synonyms"], f"{source}: [classes.synonyms]"),
        prompts=_per_class(values["prompts"], f"{source}: [classes.prompts]"),
    )


def _examples(values: list[dict[str, Any]], source: str, base_dir: Path) -> tuple[ExampleBox, ...]:
    examples = []
    for i, item in enumerate(values):
        where = f"{source}: [[examples]] #{i + 1}"
        (class_name,) = _strings([item["class"]], f"{where} class")
        (image,) = _strings([item["image"]], f"{where} image")
        box = item["box"]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
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
