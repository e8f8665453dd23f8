"""The original module's library API: ``ObjectDetectionActiveLearner`` over the round engine.

Its state lives in a SQLite file (``./cache/<dataset>_al_state.sqlite`` by default) that also
records how to rebuild the learner, so :meth:`ObjectDetectionActiveLearner.from_cache`
resumes a run exactly where it stopped, in a new process, with no pickled code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from al_object_detection.states.engine import Engine, Plan, StopRules
from al_object_detection.states.store import Round, RoundStore


class NotConfiguredError(RuntimeError):
    """A component the learner needs has no configuration."""


class ObjectDetectionActiveLearner:
    """Runs active-learning rounds on a FiftyOne dataset until a stop rule holds."""

    def __init__(
        self,
        dataset: Any,
        predictor: Any,
        sampler: Any = None,
        annotator: Any = None,
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
        zero_shot_model: Any = None,
        log: Callable[[str], None] = print,
    ) -> None:
        from al_object_detection.adapters.dataset.store import FiftyOneStore
        from al_object_detection.project import DEFAULT_STRATEGY
        from al_object_detection.states.steps import RoundContext
        from al_object_detection.strategies import build_sampler, sampler_spec

        store = FiftyOneStore(dataset) if not isinstance(dataset, FiftyOneStore) else dataset
        name = store.dataset.name
        self.state_path = Path(state_path or Path("cache") / f"{name}_al_state.sqlite")
        self.rounds = RoundStore(self.state_path)
        self.rounds.bind(dataset=name)
        sampler = sampler if sampler is not None else build_sampler(DEFAULT_STRATEGY)
        annotator = annotator if annotator is not None else _annotator_from_env(store)
        if bootstrap is None and zero_shot_model is not None:
            bootstrap = "zero_shot"
        elif bootstrap is None:
            bootstrap = "random" if str(predictor.model_id).endswith((".yaml", ".yml")) else "model"
        if zero_shot_model is not None:
            store.ensure_classes(zero_shot_model.classes)
        plan = Plan(
            project=name,
            budget=budget,
            sampler=sampler,
            bootstrap=bootstrap,
            bootstrap_size=bootstrap_size,
            seed=seed,
            poll_interval_s=poll_interval_s,
            stop=StopRules(rounds, label_budget, target_map50_95),
        )
        workdir = Path(workdir or self.state_path.parent / f"{name}_work").resolve()
        try:
            spec: dict[str, Any] | None = sampler_spec(sampler)
        except ValueError:  # a custom strategy: from_cache then needs it passed in again
            spec = None
        self._save_recipe(predictor, spec, annotator, plan, workdir, zero_shot_model)
        ctx = RoundContext(store, predictor, annotator, workdir, zero_shot_model)
        self.engine = Engine(self.rounds, ctx, plan, log=log)

    def run_active_learning(self) -> list[Round]:
        """Run (or resume) rounds until a stop rule holds; returns every round."""
        return self.engine.run()

    @classmethod
    def from_cache(
        cls,
        path: Path | str,
        *,
        sampler: Any = None,
        annotator: Any = None,
        log: Callable[[str], None] = print,
    ) -> ObjectDetectionActiveLearner:
        """Rebuild a learner from its state file (dataset, detector, strategy, plan)."""
        from al_object_detection.adapters.dataset.store import FiftyOneStore
        from al_object_detection.adapters.detection.config import parse_yolo_config
        from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
        from al_object_detection.strategies import build_sampler

        path = Path(path)
        if path.suffix == ".pkl":
            raise ValueError(_pickle_path_advice(path))
        if not path.is_file():
            raise FileNotFoundError(f"no state file at {path}")
        recipe = json.loads(RoundStore(path).meta().get("recipe", "null") or "null")
        if recipe is None:
            raise NotConfiguredError(
                f"{path} holds no learner recipe; was it made by this learner?"
            )
        store = FiftyOneStore.open(recipe["dataset"])
        config = parse_yolo_config(recipe["model_config"], source=f"{path} (saved config)")
        predictor = YOLOv8_ALObjectDetector(
            recipe["model_path"], config, work_dir=recipe["detector_work_dir"]
        )
        if annotator is None:
            annotator = _annotator_by_name(recipe["annotator"], store, path)
        zero_shot_model = None
        if recipe.get("zero_shot_config"):
            from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector

            zero_shot_model = ZeroShot_ALObjectDetector(
                recipe["zero_shot_config"], classes=store.classes
            )
        if sampler is None:
            if recipe["sampler"] is None:
                raise NotConfiguredError(f"{path} was made with a custom strategy: pass sampler=")
            sampler = build_sampler(recipe["sampler"])
        plan = recipe["plan"]
        return cls(
            store,
            predictor,
            sampler,
            annotator,
            budget=plan["budget"],
            rounds=plan["max_rounds"],
            bootstrap=plan["bootstrap"],
            bootstrap_size=plan["bootstrap_size"],
            label_budget=plan["label_budget"],
            target_map50_95=plan["target_map50_95"],
            seed=plan["seed"],
            poll_interval_s=plan["poll_interval_s"],
            state_path=path,
            workdir=recipe["workdir"],
            zero_shot_model=zero_shot_model,
            log=log,
        )

    def _save_recipe(
        self,
        predictor: Any,
        sampler: dict[str, Any] | None,
        annotator: Any,
        plan: Plan,
        workdir: Path,
        zero_shot_model: Any,
    ) -> None:
        initial = self.rounds.meta().get("recipe")
        model_path = json.loads(initial)["model_path"] if initial else str(predictor.model_id)
        recipe = {
            "dataset": plan.project,
            "model_path": model_path,  # the starting weights; later rounds' are in the rounds
            "model_config": {
                "train": predictor.config.train,
                "predict": dataclasses.asdict(predictor.config.predict),
            },
            "detector_work_dir": str(predictor.work_dir),
            "sampler": sampler,
            "annotator": type(annotator).__name__,
            "zero_shot_config": _config_path(zero_shot_model),
            "workdir": str(workdir),
            "plan": {
                "budget": plan.budget,
                "max_rounds": plan.stop.max_rounds,
                "bootstrap": plan.bootstrap,
                "bootstrap_size": plan.bootstrap_size,
                "label_budget": plan.stop.label_budget,
                "target_map50_95": plan.stop.target_map50_95,
                "seed": plan.seed,
                "poll_interval_s": plan.poll_interval_s,
            },
        }
        self.rounds.set_meta("recipe", json.dumps(recipe))


def _config_path(zero_shot_model: Any) -> str | None:
    """The zero-shot model's config file, when it came from one (to rebuild it on resume)."""
    if zero_shot_model is None:
        return None
    source = Path(str(zero_shot_model.config.source))
    return str(source.resolve()) if source.is_file() else None


def _annotator_by_name(name: str, store: Any, path: Path) -> Any:
    """The backend whose annotator class made the run; a custom one must be passed again."""
    from al_object_detection.assembly import backend_of, build_annotator

    backend = backend_of(name)
    if backend is None:
        raise NotConfiguredError(
            f"{path} was made with a custom annotator ({name}): pass annotator="
        )
    return build_annotator(backend, store)


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


def _annotator_from_env(store: Any) -> Any:
    """The seed's default annotator: CVAT, configured from FIFTYONE_CVAT_* (or a .env file)."""
    try:
        from al_object_detection.adapters.annotation.cvat.annotator import CvatAnnotator
    except ImportError as error:
        raise NotConfiguredError(
            "no annotator given and the CVAT backend is not available in this installation; "
            "pass annotator=OracleAnnotator(store) to simulate one"
        ) from error
    return CvatAnnotator.from_env(store)
