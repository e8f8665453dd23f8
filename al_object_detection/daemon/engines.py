"""The daemon's own engine, for the short steps: the real stores and annotator, no detector.

Opening a round, starting it, polling the annotators and retrying a failed round need no
model, so the daemon process never imports torch; the worker builds the full engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.project import ProjectConfig
from al_object_detection.states.engine import Engine
from al_object_detection.states.steps import RoundContext
from al_object_detection.states.store import RoundStore


class NoDetector:
    """Stands in for the detector where no step needs one; the worker loads the weights."""

    model_id = ""

    def use_weights(self, path: Path) -> None:
        """Nothing is loaded in this process."""


def short_step_engine(
    config: ProjectConfig,
    store: FiftyOneStore,
    *,
    log: Callable[[str], None],
    log_error: Callable[[str], None] | None = None,
) -> Engine:
    """An engine whose steps in pending, annotating and failed need no detector."""
    from al_object_detection.assembly import build_annotator, build_plan

    rounds = RoundStore(config.state_file)
    rounds.bind(dataset=config.dataset, project=config.name)
    detector = cast(Any, NoDetector())
    annotator = build_annotator(config.backend, store, config.annotator_options())
    ctx = RoundContext(store, detector, annotator, config.state_dir)
    return Engine(rounds, ctx, build_plan(config), actor="daemon", log=log, log_error=log_error)
