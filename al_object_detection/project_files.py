"""What a project refers to, checked before the daemon starts work.

``alod.toml`` names a FiftyOne dataset, a detector checkpoint (or a model yaml), a
``yolo_config.toml`` and, for a zero-shot bootstrap, an ``owl2_config.toml`` with its weights.
The files are checked without importing torch, the dataset once FiftyOne is open: a missing or
misspelled name, or a wrong key inside a file, is a :class:`ProjectConfigError` naming the file
and the problem (with "did you mean" where a close name exists), so a bad setting stops the
start instead of failing inside the worker later.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from al_object_detection.adapters.detection.config import (
    ConfigError,
    load_yolo_config,
    ultralytics_dir,
)
from al_object_detection.adapters.zero_shot.config import load_owl2_config
from al_object_detection.adapters.zero_shot.weights import ZeroShotError, locate_weights
from al_object_detection.offline import activate
from al_object_detection.project import ProjectConfig, ProjectConfigError

_MODEL_YAML = (".yaml", ".yml")
_MAX_NAMES = 20


def check_project_files(config: ProjectConfig) -> None:
    """Raise :class:`ProjectConfigError` when a file ``config`` refers to is missing or bad."""
    _check_model(config)
    _check_detector_config(config)
    if config.bootstrap == "zero_shot":
        _check_zero_shot(config)


def check_dataset(config: ProjectConfig, existing: list[str]) -> bool:
    """Whether the project's dataset is to be created (empty): only with ``[dataset] create``.

    A missing dataset is otherwise an error that names the datasets there are.
    """
    if config.dataset in existing:
        return False
    if config.create_dataset:
        return True
    names = sorted(existing)
    shown = ", ".join(repr(n) for n in names[:_MAX_NAMES]) or "none"
    more = f" and {len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else ""
    raise ProjectConfigError(
        f"{config.source}: [dataset] name = {config.dataset!r}: no such FiftyOne dataset"
        f"{_did_you_mean(config.dataset, names)}; there are: {shown}{more}. "
        "To start an empty one that the drop folders fill, set [dataset] create = true"
    )


def _check_model(config: ProjectConfig) -> None:
    path = Path(config.model)
    if path.is_file():
        return
    where = f"{config.source}: [detector] model"
    if path.suffix in _MODEL_YAML and not path.parent.name:
        shipped = _shipped_model_yamls()
        if path.name in shipped or _unscaled(path.name) in shipped:
            return  # built from scratch by ultralytics, such as yolov8n.yaml
        raise ProjectConfigError(
            f"{where} = {config.model!r}: not a file, nor a model yaml that ultralytics ships"
            f"{_did_you_mean(path.name, shipped)} (weights are never downloaded)"
        )
    siblings = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    raise ProjectConfigError(
        f"{where}: checkpoint not found: {path}{_did_you_mean(path.name, siblings)} "
        "(weights are never downloaded: give a local .pt file, or a model yaml such as "
        "yolov8n.yaml to start from scratch)"
    )


def _check_detector_config(config: ProjectConfig) -> None:
    try:
        load_yolo_config(config.detector_config)
    except ConfigError as error:
        raise ProjectConfigError(f"{config.source}: [detector] config: {error}") from None


def _check_zero_shot(config: ProjectConfig) -> None:
    where = f"{config.source}: [sampling] zero_shot_config"
    try:
        owl2 = load_owl2_config(config.zero_shot_config)
    except ConfigError as error:
        raise ProjectConfigError(f"{where}: {error}") from None
    activate()  # offline: a hub id is looked up in the local cache only
    try:
        locate_weights(owl2.weights, owl2.base_dir)
    except ZeroShotError as error:
        raise ProjectConfigError(f"{where}: {owl2.source}: [model] weights: {error}") from None
    missing = [str(example.image) for example in owl2.examples if not example.image.is_file()]
    if missing:
        raise ProjectConfigError(
            f"{where}: {owl2.source}: [[examples]] images not found: {', '.join(missing)}"
        )


def _shipped_model_yamls() -> list[str]:
    models = ultralytics_dir() / "cfg" / "models"
    return sorted({p.name for p in models.rglob("*.yaml")})


def _unscaled(name: str) -> str:
    """``yolov8n.yaml`` -> ``yolov8.yaml``: ultralytics reads the scale from the name."""
    return re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", name)


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
