"""The original module's library API: ``ObjectDetectionActiveLearner`` over the round engine.

Its state lives in a SQLite file (``./cache/<dataset>_al_state.sqlite`` by default) that also
records the learner's :class:`~al_object_detection.spec.EngineSpec`, so
:meth:`ObjectDetectionActiveLearner.from_cache` resumes a run exactly where it stopped, in a
new process, with no pickled code: the same detector, strategy, plan and annotation backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.assembly import NotConfiguredError, Parts, build_engine
from al_object_detection.paths import ProjectPaths
from al_object_detection.spec import RECIPE, EngineSpec, PlanSpec, read_recipe
from al_object_detection.states.engine import StopRules
from al_object_detection.states.store import Round, RoundStore

if TYPE_CHECKING:
    from al_object_detection.adapters.annotation.protocol import Annotator
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
    from al_object_detection.strategies.base import BaseSampler

__all__ = ["NotConfiguredError", "ObjectDetectionActiveLearner"]


class ObjectDetectionActiveLearner:
    """Runs active-learning rounds on a FiftyOne dataset until a stop rule holds."""

    def __init__(
        self,
        dataset: Any,  # a FiftyOne dataset, or its FiftyOneStore
        predictor: YOLOv8_ALObjectDetector,
        sampler: BaseSampler | None = None,
        annotator: Annotator | None = None,
        *,
        budget: int = 32,
        rounds: int = 3,
        bootstrap: str | None = None,
        bootstrap_size: int | None = None,
        label_budget: int | None = None,
        target_map50_95: float | None = None,
        seed: int = 0,
        poll_interval_s: float = 30.0,
        state_path: Path | str | None = None,
        workdir: Path | str | None = None,
        zero_shot_model: ZeroShot_ALObjectDetector | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        from al_object_detection.adapters.annotation.backends import backend
        from al_object_detection.adapters.dataset.store import FiftyOneStore
        from al_object_detection.project import DEFAULT_STRATEGY
        from al_object_detection.strategies import build_sampler

        store = dataset if isinstance(dataset, FiftyOneStore) else FiftyOneStore(dataset)
        name = store.dataset.name
        sampler = sampler if sampler is not None else build_sampler(DEFAULT_STRATEGY)
        # the seed's default: CVAT, configured from FIFTYONE_CVAT_* (or a .env file)
        annotator = annotator if annotator is not None else backend("cvat").build(store)
        if bootstrap is None and zero_shot_model is not None:
            bootstrap = "zero_shot"
        elif bootstrap is None:
            bootstrap = "random" if str(predictor.model_id).endswith((".yaml", ".yml")) else "model"
        plan = PlanSpec(
            budget=budget,
            bootstrap=bootstrap,
            bootstrap_size=bootstrap_size,
            seed=seed,
            poll_interval_s=poll_interval_s,
            stop=StopRules(rounds, label_budget, target_map50_95),
        )
        paths = ProjectPaths.for_dataset(name, state_path, workdir)
        spec = EngineSpec.from_library(
            name, predictor, sampler, annotator, zero_shot_model, paths, plan
        )
        self._start(spec, Parts(store, predictor, sampler, annotator, zero_shot_model), log)

    def _start(self, spec: EngineSpec, parts: Parts, log: Callable[[str], None]) -> None:
        self.spec = spec
        self.state_path = spec.paths.state_file
        self.engine = build_engine(spec, parts, log=log)
        self.rounds: RoundStore = self.engine.store

    def run_active_learning(self) -> list[Round]:
        """Run (or resume) rounds until a stop rule holds; returns every round."""
        return self.engine.run()

    @classmethod
    def from_cache(
        cls,
        path: Path | str,
        *,
        sampler: BaseSampler | None = None,
        annotator: Annotator | None = None,
        log: Callable[[str], None] = print,
    ) -> ObjectDetectionActiveLearner:
        """Rebuild a learner from its state file (dataset, detector, strategy, plan, backend);
        a custom strategy or annotator must be passed again."""
        path = Path(path)
        if path.suffix == ".pkl":
            raise ValueError(_pickle_path_advice(path))
        if not path.is_file():
            raise FileNotFoundError(f"no state file at {path}")
        stored = RoundStore(path)
        try:
            spec = read_recipe(stored.meta().get(RECIPE), path)
        finally:
            stored.close()
        if spec is None:
            raise NotConfiguredError(
                f"{path} holds no learner recipe; was it made by this learner?"
            )
        learner = cls.__new__(cls)
        learner._start(spec, Parts(sampler=sampler, annotator=annotator), log)
        return learner


def _pickle_path_advice(path: Path) -> str:
    """What to pass instead of the original module's pickled state (``*_al_state.pkl``)."""
    state = path.with_suffix(".sqlite")
    found = (
        "it is there"
        if state.is_file()
        else "not there yet: start the run with ObjectDetectionActiveLearner(dataset, ...)"
    )
    return (
        f"{path} is the original module's pickled state; this learner keeps its state in "
        f"SQLite instead: pass from_cache({str(state)!r}) ({found})"
    )
