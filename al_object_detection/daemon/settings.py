"""The ``[daemon]`` table of ``alod.toml``: drop folders, quarantine, timings, metrics, logs.

Validated like the rest of the file: a wrong key, type or value gets one message naming it
and what is allowed. Paths are relative to the config file; the defaults live in the
project's state dir.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from al_object_detection.ingest.rules import IngestRules
from al_object_detection.project import ProjectConfig, ProjectConfigError, parse_project_config
from al_object_detection.toml_files import read_toml
from al_object_detection.toml_schema import Key, Table, check_table

LOG_LEVELS = ("debug", "info", "warning", "error")

_TABLE = Table(
    {
        "watch": Key(list, []),
        "quarantine": Key(str, ""),
        "image_store": Key(str, ""),
        "formats": Key(list, ["JPEG", "PNG"]),
        "max_pixels": Key(int, 50_000_000, low=1),
        "max_bytes": Key(int, 200 * 1024 * 1024, low=1),
        "settle_s": Key(float, 1.0, low=0),
        "grace_s": Key(float, 30.0, low=0),
        "rescan_interval_s": Key(float, 300.0, low=1),
        "shutdown_timeout_s": Key(float, 30.0, low=1),
        "metrics_file": Key(str, ""),
        "metrics_interval_s": Key(float, 15.0, low=1),
        "log_level": Key(str, "info", choices=LOG_LEVELS),
        "log_file": Key(str, ""),
    }
)


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
    values = check_table(raw, _TABLE, "[daemon]", source=str(source), error=ProjectConfigError)
    base, paths = source.parent, project.paths

    def path_or(key: str, default: Path) -> Path:
        return (base / values[key]).absolute() if values[key] else default.absolute()

    watch = tuple((base / _text(item, "watch", source)).absolute() for item in values["watch"])
    settings = DaemonSettings(
        watch=watch,
        quarantine=path_or("quarantine", paths.quarantine),
        image_store=path_or("image_store", paths.image_store),
        rules=_rules(values, source),
        rescan_interval_s=values["rescan_interval_s"],
        shutdown_timeout_s=values["shutdown_timeout_s"],
        metrics_file=path_or("metrics_file", paths.metrics_file),
        metrics_interval_s=values["metrics_interval_s"],
        log_level=values["log_level"],
        log_file=path_or("log_file", paths.log_file),
    )
    _check_layout(settings, source)
    return settings


def _rules(values: dict[str, Any], source: Path) -> IngestRules:
    formats = tuple(_text(f, "formats", source).upper() for f in values["formats"])
    try:
        return IngestRules(
            formats=formats,
            max_pixels=values["max_pixels"],
            max_bytes=values["max_bytes"],
            settle_s=values["settle_s"],
            grace_s=values["grace_s"],
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
