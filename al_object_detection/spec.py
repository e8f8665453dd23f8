"""What a round engine is made of, as data: one :class:`EngineSpec`.

It is built in one place, from alod.toml (:meth:`EngineSpec.from_project`) or from the
library's arguments (:meth:`EngineSpec.from_library`), stored in the state file as its recipe
(:meth:`EngineSpec.dumps`) and read back (:func:`read_recipe`) by ``from_cache``; the daemon,
its worker and the learner all build their engine from it (``assembly.build_engine``).
Recipes written by earlier versions (a flat table naming the annotator class) are read too.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.annotation.backends import (
    UnknownBackendError,
    backend_of,
    canonical_backend,
)
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.adapters.detection.compute import ComputeSettings
from al_object_detection.paths import ProjectPaths
from al_object_detection.states.engine import StopRules

if TYPE_CHECKING:
    from al_object_detection.adapters.annotation.protocol import Annotator
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
    from al_object_detection.project import ProjectConfig
    from al_object_detection.strategies.base import BaseSampler

#: The state file's metadata key that holds the spec.
RECIPE = "recipe"
_VERSION = 2
_CVAT_KNOBS = ("done_when", "task_size", "job_size", "image_quality")


@dataclass(frozen=True)
class PlanSpec:
    """How each round runs: the engine's ``Plan`` as data (its fields, by the same names) and
    the strategy as a registry spec."""

    budget: int = 32
    budget_unit: str = "images"  # or "boxes" (predicted) or "seconds" (the cost model)
    bootstrap: str = "random"  # round 0: random, model or zero_shot
    bootstrap_size: int | None = None  # round 0's budget (None: budget)
    seed: int = 0
    max_attempts: int = 3
    poll_interval_s: float = 30.0
    stop: StopRules = field(default_factory=StopRules)
    strategy: dict[str, Any] | str | None = None  # a registry spec; None: a custom sampler


@dataclass(frozen=True)
class DetectorSpec:
    """The detector to start from: weights, its settings and where it trains."""

    model: str  # the starting weights (or a model yaml); later rounds' are in the rounds
    config: Path | dict[str, Any] | None  # a yolo_config.toml, its tables, or the defaults
    work_dir: Path


@dataclass(frozen=True)
class AnnotationSpec:
    """The annotation backend (alod.toml's name) and its server settings."""

    backend: str | None  # None: a custom annotator, passed again on resume
    custom: str | None = None  # a custom annotator's class name, to say what to pass
    options: dict[str, Any] = field(default_factory=dict)  # [annotation]'s server knobs

    def prelabels(self) -> PrelabelSettings:
        """The pre-label threshold and cap (the servers' own, or the defaults)."""
        default = PrelabelSettings()
        return PrelabelSettings(
            min_confidence=float(self.options.get("prelabel_threshold", default.min_confidence)),
            max_boxes=int(self.options.get("prelabel_max_boxes", default.max_boxes)),
        )

    def server_options(self) -> dict[str, Any]:
        """The ``from_env`` options of the backend's server (none for the oracle)."""
        if self.backend in (None, "oracle"):
            return {}
        cvat = {k: self.options[k] for k in _CVAT_KNOBS if k in self.options}
        return {"prelabels": self.prelabels(), **(cvat if self.backend == "cvat" else {})}


@dataclass(frozen=True)
class EngineSpec:
    """Everything that makes one project's engine, as plain data."""

    project: str
    dataset: str
    paths: ProjectPaths
    plan: PlanSpec
    detector: DetectorSpec
    annotation: AnnotationSpec
    #: a zero-shot round 0's owl2_config.toml (None: the shipped defaults)
    zero_shot_config: Path | None = None
    database_dir: Path | None = None
    database_uri: str | None = None
    compute: ComputeSettings = field(default_factory=ComputeSettings)  # [compute]

    @classmethod
    def from_project(cls, config: ProjectConfig) -> EngineSpec:
        """The spec of a validated ``alod.toml``."""
        paths = config.paths
        return cls(
            project=config.name,
            dataset=config.dataset,
            paths=paths,
            plan=PlanSpec(
                budget=config.budget,
                budget_unit=config.budget_unit,
                bootstrap=config.bootstrap,
                bootstrap_size=config.bootstrap_size or None,
                seed=config.seed,
                max_attempts=config.max_attempts,
                poll_interval_s=config.poll_interval_s,
                stop=StopRules(
                    config.max_rounds,
                    config.label_budget,
                    config.target_map50_95,
                    min_gain=config.min_gain,
                    min_gain_per=config.min_gain_per,
                ),
                strategy=config.strategy,
            ),
            detector=DetectorSpec(config.model, config.detector_config, paths.detector_dir),
            annotation=AnnotationSpec(config.backend, options=dict(config.annotation)),
            zero_shot_config=config.zero_shot_config if config.bootstrap == "zero_shot" else None,
            database_dir=config.database_dir,
            database_uri=config.database_uri,
            compute=config.compute,
        )

    @classmethod
    def from_library(
        cls,
        dataset: str,
        predictor: YOLOv8_ALObjectDetector,
        sampler: BaseSampler,
        annotator: Annotator,
        zero_shot_model: ZeroShot_ALObjectDetector | None,
        paths: ProjectPaths,
        plan: PlanSpec,
    ) -> EngineSpec:
        """The spec of ``ObjectDetectionActiveLearner(...)``'s arguments; a custom strategy or
        annotator is recorded as such (``from_cache`` then needs it passed again)."""
        from al_object_detection.strategies import sampler_spec

        try:
            strategy: dict[str, Any] | None = sampler_spec(sampler)
        except ValueError:
            strategy = None
        name = backend_of(annotator)
        config = predictor.config
        return cls(
            project=dataset,
            dataset=dataset,
            paths=paths,
            plan=dataclasses.replace(plan, strategy=strategy),
            detector=DetectorSpec(
                str(predictor.model_id),
                {"train": config.train, "predict": dataclasses.asdict(config.predict)},
                Path(predictor.work_dir),
            ),
            annotation=AnnotationSpec(name, None if name else type(annotator).__name__),
            zero_shot_config=_config_file(zero_shot_model),
        )

    def dumps(self) -> str:
        """The spec as the state file's recipe (JSON); the state file itself is not in it."""
        data = dataclasses.asdict(self)
        data["paths"].pop("state_file")
        return json.dumps({"version": _VERSION, **data}, default=str, sort_keys=True)

    @classmethod
    def loads(cls, text: str, state_file: Path) -> EngineSpec:
        """A recipe read back, for the state file at ``state_file`` (this or an earlier
        version's format)."""
        data = json.loads(text)
        if data.get("version") != _VERSION:
            return _from_former_recipe(data, state_file)
        plan, detector, annotation = data["plan"], data["detector"], data["annotation"]
        name = annotation["backend"]
        return cls(
            project=data["project"],
            dataset=data["dataset"],
            paths=ProjectPaths(state_file, Path(data["paths"]["work_dir"])),
            plan=PlanSpec(**{**plan, "stop": StopRules(**plan["stop"])}),
            detector=DetectorSpec(
                detector["model"], _path_or_table(detector["config"]), Path(detector["work_dir"])
            ),
            annotation=AnnotationSpec(
                canonical_backend(name) if name else None,
                annotation["custom"],
                annotation["options"],
            ),
            zero_shot_config=_optional_path(data["zero_shot_config"]),
            database_dir=_optional_path(data["database_dir"]),
            database_uri=data["database_uri"],
            compute=ComputeSettings(**data.get("compute", {})),
        )


def read_recipe(text: str | None, state_file: Path) -> EngineSpec | None:
    """The spec stored in a state file's metadata (None: none was stored)."""
    return None if not text or text == "null" else EngineSpec.loads(text, state_file)


def _from_former_recipe(recipe: dict[str, Any], state_file: Path) -> EngineSpec:
    """A recipe of the previous version: a flat table, the annotator by its class name."""
    plan = recipe["plan"]
    try:
        annotation = AnnotationSpec(canonical_backend(recipe["annotator"]))
    except UnknownBackendError:  # a custom annotator's class
        annotation = AnnotationSpec(None, recipe["annotator"])
    return EngineSpec(
        project=recipe["dataset"],
        dataset=recipe["dataset"],
        paths=ProjectPaths(state_file, Path(recipe["workdir"])),
        plan=PlanSpec(
            budget=plan["budget"],
            bootstrap=plan["bootstrap"],
            bootstrap_size=plan["bootstrap_size"],
            seed=plan["seed"],
            poll_interval_s=plan["poll_interval_s"],
            stop=StopRules(plan["max_rounds"], plan["label_budget"], plan["target_map50_95"]),
            strategy=recipe["sampler"],
        ),
        detector=DetectorSpec(
            recipe["model_path"], recipe["model_config"], Path(recipe["detector_work_dir"])
        ),
        annotation=annotation,
        zero_shot_config=_optional_path(recipe.get("zero_shot_config")),
    )


def _config_file(zero_shot_model: ZeroShot_ALObjectDetector | None) -> Path | None:
    """The zero-shot model's config file, when it came from one (to rebuild it on resume)."""
    if zero_shot_model is None:
        return None
    source = Path(str(zero_shot_model.config.source))
    return source.resolve() if source.is_file() else None


def _path_or_table(value: str | dict[str, Any] | None) -> Path | dict[str, Any] | None:
    return value if value is None or isinstance(value, dict) else Path(value)


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
