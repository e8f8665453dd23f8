"""The daemon's own engine, for the short steps: the real stores and annotator, no detector.

Opening a round, starting it, polling the annotators and retrying a failed round need no
model, so the daemon process never imports torch; the worker builds the full engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from al_object_detection.adapters.fiftyone_store import FiftyOneStore
from al_object_detection.project import ProjectConfig
from al_object_detection.states.engine import Engine, Plan, StopRules
from al_object_detection.states.steps import RoundContext
from al_object_detection.states.store import RoundStore


class NoDetector:
    """Stands in for the detector where no step needs one; the worker loads the weights."""

    model_id = ""

    def use_weights(self, path: Path) -> None:
        """Nothing is loaded in this process."""


def plan_for(config: ProjectConfig) -> Plan:
    """The round plan ``config`` describes (as the full engine builds it)."""
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
        stop=StopRules(config.max_rounds, config.label_budget, config.target_map50_95),
    )


def short_step_engine(
    config: ProjectConfig, store: FiftyOneStore, *, log: Callable[[str], None]
) -> Engine:
    """An engine whose steps in pending, annotating and failed need no detector."""
    from al_object_detection.assembly import build_annotator

    rounds = RoundStore(config.state_file)
    rounds.bind(dataset=config.dataset, project=config.name)
    detector = cast(Any, NoDetector())
    ctx = RoundContext(store, detector, build_annotator(config.backend, store), config.state_dir)
    return Engine(rounds, ctx, plan_for(config), actor="daemon", log=log)
