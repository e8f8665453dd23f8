"""The ``[daemon]`` table of ``alod.toml``: drop folders, quarantine, timings, metrics, logs.

Validated like the rest of the file: a wrong key, type or value gets one message naming it
and what is allowed. Paths are relative to the config file; the defaults live in the
project's state dir.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from al_object_detection.ingest.rules import IngestRules
from al_object_detection.project import ProjectConfig, ProjectConfigError, parse_project_config
from al_object_detection.toml_files import read_toml

LOG_LEVELS = ("debug", "info", "warning", "error")

# key -> (types, default, minimum)
_KEYS: dict[str, tuple[tuple[type, ...], Any, float | None]] = {
    "watch": ((list,), [], None),
    "quarantine": ((str,), "", None),
    "image_store": ((str,), "", None),
    "formats": ((list,), ["JPEG", "PNG"], None),
    "max_pixels": ((int,), 50_000_000, 1),
    "max_bytes": ((int,), 200 * 1024 * 1024, 1),
    "settle_s": ((int, float), 1.0, 0),
    "grace_s": ((int, float), 30.0, 0),
    "rescan_interval_s": ((int, float), 300.0, 1),
    "shutdown_timeout_s": ((int, float), 30.0, 1),
    "metrics_file": ((str,), "", None),
    "metrics_interval_s": ((int, float), 15.0, 1),
    "log_level": ((str,), "info", None),
    "log_file": ((str,), "", None),
}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list"}


@dataclass(frozen=True)
class DaemonSettings:
    """A validated ``[daemon]`` table, paths resolved."""

    watch: tuple[Path, ...]
    quarantine: Path
    image_store: Path
    rules: IngestRules
    rescan_interval_s: float
    shutdown_timeout_s: float
    metrics_file: Path
    metrics_interval_s: float
    log_level: str
    log_file: Path


@dataclass(frozen=True)
class DaemonConfig:
    """Everything ``alod.toml`` says: the project and its daemon."""

    project: ProjectConfig
    daemon: DaemonSettings


def load_config(path: Path | str) -> DaemonConfig:
    """Read and validate ``alod.toml``, ``[daemon]`` included."""
    raw, _ = read_toml(path, error=ProjectConfigError)
    daemon = raw.pop("daemon", {})
    project = parse_project_config(raw, source=Path(path))
    return DaemonConfig(project, parse_daemon_settings(daemon, project, source=Path(path)))


def parse_daemon_settings(
    raw: Any, project: ProjectConfig, *, source: Path = Path("alod.toml")
) -> DaemonSettings:
    """Validate a parsed ``[daemon]`` table of the project ``project``."""
    values = _validated(raw, source)
    base, state = source.parent, project.state_dir

    def path_or(key: str, default: Path) -> Path:
        return (base / values[key]).absolute() if values[key] else default.absolute()

    watch = tuple((base / _text(item, "watch", source)).absolute() for item in values["watch"])
    settings = DaemonSettings(
        watch=watch,
        quarantine=path_or("quarantine", state / "quarantine"),
        image_store=path_or("image_store", state / "images"),
        rules=_rules(values, source),
        rescan_interval_s=float(values["rescan_interval_s"]),
        shutdown_timeout_s=float(values["shutdown_timeout_s"]),
        metrics_file=path_or("metrics_file", state / f"{project.name}.prom"),
        metrics_interval_s=float(values["metrics_interval_s"]),
        log_level=values["log_level"],
        log_file=path_or("log_file", state / f"{project.name}.log.jsonl"),
    )
    _check_layout(settings, source)
    return settings


def _validated(raw: Any, source: Path) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ProjectConfigError(f"{source}: [daemon] must be a table")
    for key in raw:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, list(_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProjectConfigError(
                f"{source}: unknown key in [daemon] {key!r}{hint}; allowed: {', '.join(_KEYS)}"
            )
    values: dict[str, Any] = {}
    for key, (types, default, low) in _KEYS.items():
        value: Any = raw.get(key, default)
        if type(value) not in types:  # exact: TOML booleans are not numbers here
            allowed = " or ".join(_TYPE_NAMES[t] for t in types)
            raise ProjectConfigError(f"{source}: [daemon] {key} = {value!r} must be {allowed}")
        if low is not None and value < low:
            raise ProjectConfigError(f"{source}: [daemon] {key} must be >= {low}")
        values[key] = value
    level = values["log_level"]
    if level not in LOG_LEVELS:
        allowed = ", ".join(LOG_LEVELS)
        raise ProjectConfigError(f"{source}: [daemon] log_level = {level!r}; allowed: {allowed}")
    return values


def _rules(values: dict[str, Any], source: Path) -> IngestRules:
    formats = tuple(_text(f, "formats", source).upper() for f in values["formats"])
    try:
        return IngestRules(
            formats=formats,
            max_pixels=values["max_pixels"],
            max_bytes=values["max_bytes"],
            settle_s=float(values["settle_s"]),
            grace_s=float(values["grace_s"]),
        )
    except ValueError as error:
        raise ProjectConfigError(f"{source}: [daemon] {error}") from error


def _text(item: Any, key: str, source: Path) -> str:
    if not isinstance(item, str) or not item:
        raise ProjectConfigError(f"{source}: [daemon] {key} must list non-empty strings")
    return item


def _check_layout(settings: DaemonSettings, source: Path) -> None:
    """Drop folders may not overlap each other, the quarantine or the image store."""
    for index, folder in enumerate(settings.watch):
        others = [*settings.watch[:index], *settings.watch[index + 1 :]]
        for name, other in [("watch", o) for o in others] + [
            ("quarantine", settings.quarantine),
            ("image_store", settings.image_store),
        ]:
            if other.is_relative_to(folder) or folder.is_relative_to(other):
                raise ProjectConfigError(
                    f"{source}: [daemon] watch folder {folder} overlaps the {name} folder {other}"
                )
