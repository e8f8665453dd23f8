"""The one builder of round engines: an :class:`~al_object_detection.spec.EngineSpec` in, an
engine out, for the library, the daemon and its worker alike.

A caller may hand over parts it already has (the library's detector, sampler, annotator);
every other part is built from the spec. The state file is opened, bound to the project and
given the spec as its recipe in one place, :func:`open_rounds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.annotation.backends import backend
from al_object_detection.spec import RECIPE, EngineSpec, PlanSpec
from al_object_detection.states.engine import Engine, Plan
from al_object_detection.states.store import RoundStore

if TYPE_CHECKING:
    from al_object_detection.adapters.annotation.protocol import Annotator
    from al_object_detection.adapters.dataset.store import FiftyOneStore
    from al_object_detection.adapters.detection.protocol import (
        Detector,
        ImagePrediction,
        TrainableDetector,
        TrainedModel,
    )
    from al_object_detection.strategies.base import BaseSampler


@dataclass(frozen=True)
class Parts:
    """Parts a caller already has; None: built from the spec."""

    store: FiftyOneStore | None = None
    detector: TrainableDetector | None = None
    sampler: BaseSampler | None = None
    annotator: Annotator | None = None
    zero_shot: Detector | None = None


class NoDetector:
    """Stands in for the detector where no step needs one (the daemon's short steps: pending,
    annotating, failed); the worker loads the weights, so the daemon never imports torch."""

    model_id = ""
    classes: tuple[str, ...] = ()

    def use_weights(self, path: Path) -> None:
        """Nothing is loaded in this process."""

    def predict(
        self, filepaths: Sequence[str], *, progress: bool = True
    ) -> Iterator[ImagePrediction]:
        raise RuntimeError("this engine has no detector: predicting runs in the worker")

    def train(self, data_yaml: Path, *, round_index: int) -> TrainedModel:
        raise RuntimeError("this engine has no detector: training runs in the worker")


def build_engine(
    spec: EngineSpec,
    parts: Parts = Parts(),
    *,
    models: bool = True,
    reports: bool = False,
    actor: str = "engine",
    log: Callable[[str], None] = print,
    log_error: Callable[[str], None] | None = None,
) -> Engine:
    """The engine ``spec`` describes. ``models=False`` loads no detector (the daemon's own
    engine); ``reports`` writes each evaluated round's report (the daemon's worker)."""
    from al_object_detection.offline import activate
    from al_object_detection.states.steps import RoundContext

    activate(spec.paths.state_dir)
    store = parts.store or open_store(spec)
    rounds = open_rounds(spec)
    detector = parts.detector or (_detector(spec) if models else NoDetector())
    zero_shot = parts.zero_shot or (_zero_shot(spec, store) if models else None)
    if zero_shot is not None:
        store.ensure_classes(zero_shot.classes)
    annotator = parts.annotator or build_annotator(spec, store)
    plan = _plan(spec, parts.sampler, store, rounds, log, reports=reports)
    ctx = RoundContext(store, detector, annotator, spec.paths.work_dir, zero_shot)
    return Engine(rounds, ctx, plan, actor=actor, log=log, log_error=log_error)


def open_rounds(spec: EngineSpec) -> RoundStore:
    """The project's state file, bound to its dataset and project, the spec as its recipe."""
    rounds = RoundStore(spec.paths.state_file)
    rounds.bind(dataset=spec.dataset, project=spec.project)
    recipe = spec.dumps()
    if rounds.meta().get(RECIPE) != recipe:
        rounds.set_meta(RECIPE, recipe)
    return rounds


def open_store(spec: EngineSpec) -> FiftyOneStore:
    """The project's FiftyOne dataset, in the database the spec names."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone

    import_fiftyone(spec.database_dir, database_uri=spec.database_uri)
    return FiftyOneStore.open(spec.dataset)


def build_annotator(spec: EngineSpec, store: FiftyOneStore) -> Annotator:
    """The spec's annotation backend; a custom annotator cannot be built, only passed again."""
    name = spec.annotation.backend
    if name is None:
        raise NotConfiguredError(
            f"{spec.paths.state_file} was made with a custom annotator "
            f"({spec.annotation.custom}): pass annotator="
        )
    return backend(name).build(store, spec.annotation.server_options())


class NotConfiguredError(RuntimeError):
    """A part the engine needs was not recorded and not passed (a custom one)."""


def _plan(
    spec: EngineSpec,
    sampler: BaseSampler | None,
    store: FiftyOneStore,
    rounds: RoundStore,
    log: Callable[[str], None],
    *,
    reports: bool,
) -> Plan:
    planned: PlanSpec = spec.plan
    if sampler is None:
        from al_object_detection.strategies import build_sampler

        if planned.strategy is None:
            raise NotConfiguredError(
                f"{spec.paths.state_file} was made with a custom strategy: pass sampler="
            )
        sampler = build_sampler(planned.strategy)
    hooks: dict[str, Any] = {}
    if planned.budget_unit != "images":
        from al_object_detection.report.unit_costs import cost_function

        prelabels = spec.annotation.prelabels()
        hooks["unit_costs"] = cost_function(
            store, planned.budget_unit, spec.paths.reports_dir, prelabels
        )
    if reports:
        from al_object_detection.report.build import after_evaluated_hook, settings_for

        hooks["after_evaluated"] = after_evaluated_hook(store, rounds, settings_for(spec), log)
    settings = {f.name: getattr(planned, f.name) for f in fields(planned) if f.name != "strategy"}
    shard_size = spec.compute.shard_size
    return Plan(project=spec.project, sampler=sampler, shard_size=shard_size, **settings, **hooks)


def _detector(spec: EngineSpec) -> TrainableDetector:
    from al_object_detection.adapters.detection.compute import on_backend
    from al_object_detection.adapters.detection.config import parse_yolo_config
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

    saved = spec.detector.config
    config = (
        parse_yolo_config(saved, source=f"{spec.paths.state_file} (saved config)")
        if isinstance(saved, dict)
        else saved
    )
    local = YOLOv8_ALObjectDetector(spec.detector.model, config, work_dir=spec.detector.work_dir)
    return on_backend(local, spec.compute)


def _zero_shot(spec: EngineSpec, store: FiftyOneStore) -> Detector | None:
    """A zero-shot round 0's detector: its owl2_config.toml, else the shipped defaults."""
    if spec.plan.bootstrap != "zero_shot":
        return None
    from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector

    return ZeroShot_ALObjectDetector(spec.zero_shot_config, classes=store.classes or None)
