"""The project config (``alod.toml``): dataset, detector, strategy, annotation, stop rules.

Validated on load: a wrong section, key, type or value gets one message naming it and
what is allowed. Paths are relative to the config file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from al_object_detection.toml_files import read_toml

BACKENDS = ("oracle", "cvat", "labelstudio")
DONE_WHEN = ("completed", "acceptance")
BOOTSTRAPS = ("random", "model", "zero_shot")
BUDGET_UNITS = ("images", "boxes", "seconds")
GAIN_UNITS = ("round", "1000s")
DEFAULT_STRATEGY: dict[str, Any] = {"name": "budget_aware"}  # see strategies/budget_aware.py

# section -> key -> (types, default)
_SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "project": {"name": ((str,), None), "state_dir": ((str,), "alod-state")},
    "dataset": {
        "name": ((str,), None),
        "create": ((bool,), False),  # the daemon may start it empty when it is missing
        "database_dir": ((str,), ""),
        "database_uri": ((str,), ""),
    },
    "detector": {"model": ((str,), None), "config": ((str,), "")},
    "sampling": {
        "budget": ((int,), 32),
        "budget_unit": ((str,), "images"),
        "bootstrap": ((str,), "random"),
        "bootstrap_size": ((int,), 0),
        "seed": ((int,), 0),
        "strategy": ((dict, str), DEFAULT_STRATEGY),
        "zero_shot_config": ((str,), ""),
    },
    "annotation": {
        "backend": ((str,), "oracle"),
        "poll_interval_s": ((int, float), 30.0),
        "max_attempts": ((int,), 3),
        "done_when": ((str,), "completed"),  # CVAT: "completed" jobs, or in "acceptance"
        "task_size": ((int,), 500),  # CVAT: images per task
        "job_size": ((int,), 50),  # CVAT: images per job
        "image_quality": ((int,), 95),  # CVAT: 0-100
        "prelabel_threshold": ((int, float), 0.25),  # CVAT and Label Studio
        "prelabel_max_boxes": ((int,), 100),
    },
    "stop": {
        "max_rounds": ((int,), 3),
        "label_budget": ((int,), 0),
        "target_map50_95": ((int, float), 0.0),
        "min_gain": ((int, float), 0.0),
        "min_gain_per": ((str,), "round"),
    },
}


_SERVER_KNOBS = (
    "done_when", "task_size", "job_size", "image_quality", "prelabel_threshold",
    "prelabel_max_boxes",
)  # fmt: skip
_SCHEMA_DEFAULTS = {key: _SCHEMA["annotation"][key][1] for key in _SERVER_KNOBS}


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

    @property
    def state_file(self) -> Path:
        """The SQLite file that holds the rounds."""
        return self.state_dir / f"{self.name}.sqlite"

    def annotator_options(self) -> dict[str, Any]:
        """The ``from_env`` options of the configured annotation server (none for the oracle)."""
        if self.backend == "oracle":
            return {}
        from al_object_detection.adapters.annotation.prelabels import PrelabelSettings

        knobs = {**_SCHEMA_DEFAULTS, **self.annotation}
        prelabels = PrelabelSettings(
            min_confidence=float(knobs["prelabel_threshold"]),
            max_boxes=knobs["prelabel_max_boxes"],
        )
        if self.backend == "labelstudio":
            return {"prelabels": prelabels}
        cvat = ("done_when", "task_size", "job_size", "image_quality")
        return {"prelabels": prelabels, **{key: knobs[key] for key in cvat}}


def load_project_config(path: Path | str) -> ProjectConfig:
    """Read and validate ``alod.toml``."""
    raw, _ = read_toml(path, error=ProjectConfigError)
    return parse_project_config(raw, source=Path(path))


def parse_project_config(raw: dict[str, Any], *, source: Path = Path("alod.toml")) -> ProjectConfig:
    """Validate a parsed config; relative paths are taken from ``source``'s folder."""
    values = _validated(raw, source)
    _check_choices(values, source)
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
        poll_interval_s=float(values["annotation"]["poll_interval_s"]),
        max_attempts=values["annotation"]["max_attempts"],
        max_rounds=values["stop"]["max_rounds"],
        label_budget=values["stop"]["label_budget"] or None,
        target_map50_95=float(values["stop"]["target_map50_95"]) or None,
        min_gain=float(values["stop"]["min_gain"]) or None,
        min_gain_per=values["stop"]["min_gain_per"],
        source=source,
        annotation={k: values["annotation"][k] for k in _SERVER_KNOBS},
    )


def _validated(raw: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    _no_unknown(raw, {**_SCHEMA, "daemon": {}}, f"{source}: unknown section")  # daemon/settings.py
    values: dict[str, dict[str, Any]] = {}
    for section, keys in _SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ProjectConfigError(f"{source}: [{section}] must be a table")
        _no_unknown(given, keys, f"{source}: unknown key in [{section}]")
        values[section] = {}
        for key, (types, default) in keys.items():
            if key not in given:
                if default is None:
                    raise ProjectConfigError(f"{source}: [{section}] {key} is required")
                values[section][key] = default
                continue
            value = given[key]
            if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
                allowed = " or ".join(_TYPE_NAMES[t] for t in types)
                raise ProjectConfigError(
                    f"{source}: [{section}] {key} = {value!r} must be {allowed}"
                )
            values[section][key] = value
    return values


def _check_choices(values: dict[str, dict[str, Any]], source: Path) -> None:
    def choose(section: str, key: str, allowed: tuple[str, ...]) -> None:
        value = values[section][key]
        if value not in allowed:
            raise ProjectConfigError(
                f"{source}: [{section}] {key} = {value!r}; allowed: {', '.join(allowed)}"
            )

    choose("annotation", "backend", BACKENDS)
    _check_database(values["dataset"], source)
    choose("annotation", "done_when", DONE_WHEN)
    choose("sampling", "bootstrap", BOOTSTRAPS)
    choose("sampling", "budget_unit", BUDGET_UNITS)
    choose("stop", "min_gain_per", GAIN_UNITS)
    sampling = values["sampling"]
    counted = sampling["budget_unit"] != "images" and sampling["bootstrap"] == "random"
    if counted and sampling["bootstrap_size"] == 0:
        raise ProjectConfigError(
            f"{source}: [sampling] budget_unit = {sampling['budget_unit']!r} with a random "
            "bootstrap needs bootstrap_size (images): round 0 has no predictions to count"
        )
    for section, key, low in (
        ("sampling", "budget", 1),
        ("sampling", "bootstrap_size", 0),
        ("stop", "max_rounds", 0),
        ("stop", "label_budget", 0),
        ("annotation", "max_attempts", 1),
        ("annotation", "poll_interval_s", 0),
        ("annotation", "task_size", 1),
        ("annotation", "job_size", 1),
        ("annotation", "prelabel_max_boxes", 0),
    ):
        if values[section][key] < low:
            raise ProjectConfigError(f"{source}: [{section}] {key} must be >= {low}")
    for key, high in (("image_quality", 100), ("prelabel_threshold", 1)):
        if not 0 <= values["annotation"][key] <= high:
            raise ProjectConfigError(f"{source}: [annotation] {key} must lie in [0, {high}]")
    if values["stop"]["min_gain"] < 0:
        raise ProjectConfigError(f"{source}: [stop] min_gain must be >= 0")
    if not 0 <= values["stop"]["target_map50_95"] <= 1:
        raise ProjectConfigError(f"{source}: [stop] target_map50_95 must lie in [0, 1]")
    from al_object_detection.strategies import StrategyConfigError, build_sampler

    try:
        build_sampler(values["sampling"]["strategy"], where=f"{source}: [sampling] strategy")
    except StrategyConfigError as error:
        raise ProjectConfigError(str(error)) from error


def _check_database(dataset: dict[str, Any], source: Path) -> None:
    from al_object_detection.adapters.dataset.database import check_uri

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


_TYPE_NAMES = {
    str: "a string", int: "an integer", float: "a number", dict: "a table", bool: "true or false",
}  # fmt: skip


def _no_unknown(given: dict[str, Any], allowed: dict[str, Any], prefix: str) -> None:
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProjectConfigError(f"{prefix} {key!r}{hint}; allowed: {', '.join(allowed)}")


def _optional_path(base: Path, value: str) -> Path | None:
    return base / value if value else None
