"""The project config (``alod.toml``): dataset, detector, strategy, annotation, stop rules.

Validated on load: a wrong section, key, type or value gets one message naming it and
what is allowed. Paths are relative to the config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from al_object_detection.adapters.annotation.backends import BACKENDS as ANNOTATION_BACKENDS
from al_object_detection.adapters.dataset.database import check_uri
from al_object_detection.adapters.detection.compute import TABLE as COMPUTE_TABLE
from al_object_detection.adapters.detection.compute import ComputeSettings, compute_settings
from al_object_detection.paths import ProjectPaths
from al_object_detection.strategies import StrategyConfigError, build_sampler
from al_object_detection.toml_files import read_toml
from al_object_detection.toml_schema import Key, Table, check

BACKENDS = tuple(ANNOTATION_BACKENDS)  # oracle, cvat, labelstudio: one name everywhere
DONE_WHEN = ("completed", "acceptance")
BOOTSTRAPS = ("random", "model", "zero_shot")
BUDGET_UNITS = ("images", "boxes", "seconds")
GAIN_UNITS = ("round", "1000s")
DEFAULT_STRATEGY: dict[str, Any] = {"name": "budget_aware"}  # see strategies/budget_aware.py

_TABLES = {
    "project": Table({"name": Key(str), "state_dir": Key(str, "alod-state")}),
    "dataset": Table({
        "name": Key(str),
        "create": Key(bool, False),  # the daemon may start it empty when it is missing
        "database_dir": Key(str, ""),
        "database_uri": Key(str, ""),
    }),
    "detector": Table({"model": Key(str), "config": Key(str, "")}),
    "sampling": Table({
        "budget": Key(int, 32, low=1),
        "budget_unit": Key(str, "images", choices=BUDGET_UNITS),
        "bootstrap": Key(str, "random", choices=BOOTSTRAPS),
        "bootstrap_size": Key(int, 0, low=0),
        "seed": Key(int, 0),
        "strategy": Key((dict, str), DEFAULT_STRATEGY),
        "zero_shot_config": Key(str, ""),
    }),
    "annotation": Table({
        "backend": Key(str, "oracle", choices=BACKENDS),
        "poll_interval_s": Key(float, 30.0, low=0),
        "max_attempts": Key(int, 3, low=1),
        "done_when": Key(str, "completed", choices=DONE_WHEN),  # CVAT: jobs done or in review
        "task_size": Key(int, 500, low=1),  # CVAT: images per task
        "job_size": Key(int, 50, low=1),  # CVAT: images per job
        "image_quality": Key(int, 95, low=0, high=100),  # CVAT
        "prelabel_threshold": Key(float, 0.25, low=0, high=1),  # CVAT and Label Studio
        "prelabel_max_boxes": Key(int, 100, low=0),
    }),
    "stop": Table({
        "max_rounds": Key(int, 3, low=0),
        "label_budget": Key(int, 0, low=0),
        "target_map50_95": Key(float, 0.0, low=0, high=1),
        "min_gain": Key(float, 0.0, low=0),
        "min_gain_per": Key(str, "round", choices=GAIN_UNITS),
    }),
    "compute": COMPUTE_TABLE,  # where the pool is predicted: adapters/detection/compute.py
}  # fmt: skip
_SERVER_KNOBS = (
    "done_when", "task_size", "job_size", "image_quality", "prelabel_threshold",
    "prelabel_max_boxes",
)  # fmt: skip


class ProjectConfigError(ValueError):
    """A config value that cannot be used; the message names it and what is allowed."""


@dataclass(frozen=True)
class ProjectConfig:
    """A validated ``alod.toml``."""

    name: str
    state_dir: Path
    dataset: str
    database_dir: Path | None
    database_uri: str | None
    model: str
    detector_config: Path | None
    budget: int
    budget_unit: str
    bootstrap: str
    bootstrap_size: int
    zero_shot_config: Path | None
    seed: int
    strategy: dict[str, Any] | str
    backend: str
    poll_interval_s: float
    max_attempts: int
    max_rounds: int
    label_budget: int | None
    target_map50_95: float | None
    min_gain: float | None
    min_gain_per: str
    source: Path = field(default=Path("alod.toml"))
    create_dataset: bool = False  # [dataset] create: the daemon may start it empty
    annotation: dict[str, Any] = field(default_factory=dict)  # the [annotation] server knobs
    compute: ComputeSettings = field(default_factory=ComputeSettings)  # [compute]

    @property
    def paths(self) -> ProjectPaths:
        """The state file (``<state_dir>/<name>.sqlite``) and every file derived from it."""
        return ProjectPaths.for_project(self.state_dir, self.name)


def load_project_config(path: Path | str) -> ProjectConfig:
    """Read and validate ``alod.toml``."""
    raw, _ = read_toml(path, error=ProjectConfigError)
    return parse_project_config(raw, source=Path(path))


def parse_project_config(raw: dict[str, Any], *, source: Path = Path("alod.toml")) -> ProjectConfig:
    """Validate a parsed config; relative paths are taken from ``source``'s folder."""
    values = _validated(raw, source)
    base = source.parent
    model = values["detector"]["model"]
    return ProjectConfig(
        name=values["project"]["name"],
        state_dir=base / values["project"]["state_dir"],
        dataset=values["dataset"]["name"],
        create_dataset=values["dataset"]["create"],
        database_dir=_optional_path(base, values["dataset"]["database_dir"]),
        database_uri=values["dataset"]["database_uri"] or None,
        model=model if model.endswith((".yaml", ".yml")) else str(base / model),
        detector_config=_optional_path(base, values["detector"]["config"]),
        budget=values["sampling"]["budget"],
        budget_unit=values["sampling"]["budget_unit"],
        bootstrap=values["sampling"]["bootstrap"],
        bootstrap_size=values["sampling"]["bootstrap_size"],
        zero_shot_config=_optional_path(base, values["sampling"]["zero_shot_config"]),
        seed=values["sampling"]["seed"],
        strategy=values["sampling"]["strategy"],
        backend=values["annotation"]["backend"],
        poll_interval_s=values["annotation"]["poll_interval_s"],
        max_attempts=values["annotation"]["max_attempts"],
        max_rounds=values["stop"]["max_rounds"],
        label_budget=values["stop"]["label_budget"] or None,
        target_map50_95=values["stop"]["target_map50_95"] or None,
        min_gain=values["stop"]["min_gain"] or None,
        min_gain_per=values["stop"]["min_gain_per"],
        source=source,
        annotation={k: values["annotation"][k] for k in _SERVER_KNOBS},
        compute=compute_settings(
            values["compute"], where=f"{source}: [compute]", error=ProjectConfigError
        ),
    )


def _validated(raw: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    values = check(raw, _TABLES, source=str(source), error=ProjectConfigError, others=["daemon"])
    _check_database(values["dataset"], source)
    sampling = values["sampling"]
    counted = sampling["budget_unit"] != "images" and sampling["bootstrap"] == "random"
    if counted and sampling["bootstrap_size"] == 0:
        raise ProjectConfigError(
            f"{source}: [sampling] budget_unit = {sampling['budget_unit']!r} with a random "
            "bootstrap needs bootstrap_size (images): round 0 has no predictions to count"
        )
    try:
        build_sampler(sampling["strategy"], where=f"{source}: [sampling] strategy")
    except StrategyConfigError as error:
        raise ProjectConfigError(str(error)) from error
    return values


def _check_database(dataset: dict[str, Any], source: Path) -> None:
    if dataset["database_uri"] and dataset["database_dir"]:
        raise ProjectConfigError(
            f"{source}: [dataset] database_uri and database_dir exclude each other "
            "(a server you run, or FiftyOne's own on a folder)"
        )
    if dataset["database_uri"]:
        try:
            check_uri(dataset["database_uri"])
        except ValueError as error:
            raise ProjectConfigError(f"{source}: [dataset] database_uri {error}") from None


def _optional_path(base: Path, value: str) -> Path | None:
    return base / value if value else None
