"""Build the round engine of a project from its validated ``alod.toml``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from al_object_detection.project import ProjectConfig
from al_object_detection.states.engine import Engine, Plan, StopRules
from al_object_detection.states.store import RoundStore


def build_engine(
    config: ProjectConfig,
    *,
    actor: str = "engine",
    log: Callable[[str], None] = print,
    log_error: Callable[[str], None] | None = None,
) -> Engine:
    """The engine for ``config``: its FiftyOne dataset, detector, annotator and state file."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.offline import activate
    from al_object_detection.states.steps import RoundContext

    activate(config.state_dir)
    import_fiftyone(config.database_dir, database_uri=config.database_uri)
    store = FiftyOneStore.open(config.dataset)
    rounds = RoundStore(config.state_file)
    rounds.bind(dataset=config.dataset, project=config.name)
    detector = YOLOv8_ALObjectDetector(
        config.model, config.detector_config, work_dir=config.state_dir / "detector"
    )
    plan = build_plan(config)
    zero_shot = None
    if config.bootstrap == "zero_shot":
        from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector

        zero_shot = ZeroShot_ALObjectDetector(
            config.zero_shot_config, classes=store.classes or None
        )
        store.ensure_classes(zero_shot.classes)
    annotator = build_annotator(config.backend, store, config.annotator_options())
    ctx = RoundContext(store, detector, annotator, config.state_dir, zero_shot)
    from al_object_detection.report.build import after_evaluated_hook, settings_for
    from al_object_detection.report.unit_costs import cost_function

    report = settings_for(config)  # each evaluated round gets its report
    hook = after_evaluated_hook(store, rounds, report, log)
    costs = cost_function(store, config.budget_unit, config.state_dir, report.prelabels)
    plan = replace(plan, after_evaluated=hook, unit_costs=costs)
    return Engine(rounds, ctx, plan, actor=actor, log=log, log_error=log_error)


def build_plan(config: ProjectConfig) -> Plan:
    """The round plan ``config`` describes: budget, strategy, bootstrap, stop rules."""
    from al_object_detection.strategies import build_sampler

    return Plan(
        project=config.name,
        budget=config.budget,
        sampler=build_sampler(config.strategy),
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
        budget_unit=config.budget_unit,
    )


#: The annotation backends by name: the module and class of each (a learner's state file
#: records the class name).
ANNOTATORS = {
    "oracle": ("al_object_detection.adapters.annotation.oracle", "OracleAnnotator"),
    "cvat": ("al_object_detection.adapters.annotation.cvat.annotator", "CvatAnnotator"),
    "labelstudio": (
        "al_object_detection.adapters.annotation.label_studio.annotator",
        "LabelStudioAnnotator",
    ),
}


def build_annotator(backend: str, store: Any, options: dict[str, Any] | None = None) -> Any:
    """The annotation backend ``backend`` (``oracle``, ``cvat``, ``labelstudio``).

    The oracle reads the store's hidden labels; the servers are configured from the
    environment (see their ``from_env``) and ``options`` (``[annotation]`` in alod.toml).
    """
    if backend not in ANNOTATORS:
        raise ValueError(
            f"unknown annotation backend {backend!r}; the backends are {', '.join(ANNOTATORS)}"
        )
    module, name = ANNOTATORS[backend]
    annotator_class = getattr(importlib.import_module(module), name)
    if backend == "oracle":
        return annotator_class(store)
    return annotator_class.from_env(store, **(options or {}))


def backend_of(class_name: str) -> str | None:
    """The backend whose annotator class is named ``class_name``; None for any other class."""
    return next((b for b, (_, name) in ANNOTATORS.items() if name == class_name), None)
