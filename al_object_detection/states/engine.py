"""The round engine: one loop that runs the state machine, whoever drives it.

Each call of :meth:`Engine.step` does the work of the current round's state through the
step functions and fires the trigger it returns, in one transaction with what it produced.
External side effects (an annotation batch submitted, labels imported, a model trained) are
recorded as intents with a deterministic key before they happen and checked before they are
repeated, so a crash at any instant resumes without duplicating any of them. A round owns one
annotation batch for its whole life: retries and restarts reattach to it. An annotation server
that refuses the credentials is no failure of the round: it waits for an operator
(:attr:`Engine.waiting_for`), trying again with backoff, and resumes once they are fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from al_object_detection.adapters.annotation.protocol import (
    AnnotationCredentialsError,
    AnnotationNotReady,
    AnnotationServerUnavailable,
)
from al_object_detection.report.stopping import curve_points, decide, next_round_images
from al_object_detection.states import machine as m
from al_object_detection.states import shards, steps
from al_object_detection.states.store import Round, RoundStore
from al_object_detection.strategies import Pool, RandomSampler, Selection
from al_object_detection.strategies.base import Strategy
from al_object_detection.strategies.budget import choose_within

WAIT = "wait"
#: An operator wait tries again after poll_interval_s * 2**n, n capped here.
MAX_BACKOFF_DOUBLINGS = 4


@dataclass(frozen=True)
class StopRules:
    """When the project is done: rounds after round 0, labeled images, or a target mAP."""

    max_rounds: int = 3
    label_budget: int | None = None
    target_map50_95: float | None = None
    min_gain: float | None = None  # predicted mAP50-95 gain of the next round, see report/
    min_gain_per: str = "round"  # or "1000s": per 1,000 s of annotation


@dataclass(frozen=True)
class Plan:
    """How each round runs."""

    project: str
    budget: int
    sampler: Strategy
    bootstrap_size: int | None = None
    # round 0: "random" picks at random; "model" predicts with the detector;
    # "zero_shot" predicts with the context's bootstrap (zero-shot) detector
    bootstrap: str = "random"
    seed: int = 0
    max_attempts: int = 3
    poll_interval_s: float = 30.0
    stop: StopRules = field(default_factory=StopRules)
    budget_unit: str = "images"  # or "boxes" (predicted) or "seconds" (the cost model)
    # called with each round once it is evaluated; a failure is logged, never fails the round
    after_evaluated: Callable[[Round], None] | None = None
    # what each pool image costs in budget_unit (by sample id), for budgets not in images
    unit_costs: Callable[[list[str]], Any] | None = None
    shard_size: int = 1000  # images per prediction intent (see states/shards.py)


class RoundFailed(RuntimeError):
    """A round failed more often than the plan allows; the reason is in the state file."""


@dataclass(frozen=True)
class StepResult:
    """What one step did: the trigger fired (or ``wait``) and the round afterwards."""

    trigger: str
    round: Round


class Engine:
    """Drives rounds forward, one persisted step at a time."""

    def __init__(
        self,
        store: RoundStore,
        ctx: steps.RoundContext,
        plan: Plan,
        *,
        actor: str = "engine",
        log: Callable[[str], None] = print,
        log_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.ctx, self.plan, self.actor, self.log = store, ctx, plan, actor, log
        #: the min_gain rule's verdict for a number of evaluated rounds (fitted once per round)
        self._gain_verdict: tuple[int, str | None] | None = None
        self.log_error, self._clock = log_error or log, clock
        #: Why the round waits for an operator (refused credentials), or None.
        self.waiting_for: str | None = None
        #: Which stop rule ended the project, once one holds.
        self.stop_reason: str | None = None
        self._refusals = 0
        self._retry_at = 0.0
        self._handlers: dict[str, Callable[[Round], tuple[str, dict[str, Any]]]] = {
            m.PENDING: self._pending,
            m.PREDICTING: self._predicting,
            m.SAMPLING: self._sampling,
            m.ANNOTATING: self._annotating,
            m.IMPORTING: self._importing,
            m.TRAINING: self._training,
            m.EVALUATING: self._evaluating,
        }

    # -- driving ---------------------------------------------------------------------------

    def run(self, *, sleep: Callable[[float], None] = time.sleep) -> list[Round]:
        """Run rounds until a stop rule holds; wait for annotators; retry failed rounds."""
        while True:
            result = self.step()
            if result.trigger == "done":
                return self.store.rounds()
            if result.trigger == WAIT:
                sleep(self.plan.poll_interval_s)

    def step(self) -> StepResult:
        """Do the current state's work once and persist the outcome."""
        current = self.store.current()
        if current is None or current.state == m.COMPLETED:
            self.stop_reason = self._stop_reason(current)
            if self.stop_reason is not None:
                return StepResult("done", current)  # type: ignore[arg-type]
            index = 0 if current is None else current.round + 1
            opened = self.store.open_round(index, self._budget_for(index), actor=self.actor)
            return StepResult("opened", opened)
        if current.state == m.CANCELLED:
            return StepResult("done", current)
        if current.state == m.FAILED:
            return self._retry(current)
        if self.waiting_for is not None and self._clock() < self._retry_at:
            return StepResult(WAIT, current)  # backing off: credentials are still refused
        steps.use_latest_model(self.ctx, [r.model_path for r in self.store.rounds()])
        handler = self._handlers[current.state]
        began = time.monotonic()
        try:
            trigger, updates = handler(current)
        except AnnotationCredentialsError as error:
            return self._wait_for_operator(current, error)
        except (AnnotationServerUnavailable, AnnotationNotReady) as error:
            self.log(f"round {current.round}: {current.state}: {error}; trying again later")
            return StepResult(WAIT, current)
        except Exception as error:  # noqa: BLE001 -- every step failure is recorded, never lost
            reason = f"{type(error).__name__}: {error}"
            self.log_error(f"round {current.round}: {current.state} failed: {reason}")
            failed = self.store.fire(current.round, "fail", actor=self.actor, reason=reason)
            return StepResult("fail", failed)
        if self.waiting_for is not None:
            self.log(f"round {current.round}: the annotation server accepts us again; resuming")
            self.waiting_for, self._refusals = None, 0
        if trigger == WAIT:
            return StepResult(WAIT, current)
        after = self.store.fire(
            current.round, trigger, actor=self.actor, expect=current.state, **updates
        )
        seconds = time.monotonic() - began
        self.log(f"round {current.round}: {current.state} -> {after.state} ({seconds:.1f} s)")
        if trigger == "evaluated" and self.plan.after_evaluated is not None:
            self._after_evaluated(after)
        return StepResult(trigger, after)

    def _after_evaluated(self, evaluated: Round) -> None:
        assert self.plan.after_evaluated is not None
        try:
            self.plan.after_evaluated(evaluated)
        except Exception as error:  # noqa: BLE001 -- the round is done; its report is extra
            self.log(f"round {evaluated.round}: report failed: {type(error).__name__}: {error}")

    def _wait_for_operator(self, current: Round, error: Exception) -> StepResult:
        """Refused credentials: no attempt is spent; try again later, backing off."""
        doublings = min(self._refusals, MAX_BACKOFF_DOUBLINGS)
        delay = self.plan.poll_interval_s * 2**doublings
        self._refusals += 1
        self._retry_at = self._clock() + delay
        reason = f"the annotation server refused the credentials: {error}"
        if reason != self.waiting_for:
            self.log_error(
                f"round {current.round}: {current.state}: waiting for an operator: {reason}; "
                "fix them (.env, $CREDENTIALS_DIRECTORY or the environment): the round "
                "resumes by itself"
            )
        self.waiting_for = reason
        return StepResult(WAIT, current)

    def _retry(self, current: Round) -> StepResult:
        if current.attempt >= self.plan.max_attempts:
            raise RoundFailed(
                f"round {current.round} failed {current.attempt} times in "
                f"{current.failed_in}: {current.last_error}"
            )
        retried = self.store.fire(
            current.round, "retry", actor=self.actor, reason="automatic retry"
        )
        return StepResult("retry", retried)

    # -- the work of each state ------------------------------------------------------------

    def _pending(self, current: Round) -> tuple[str, dict[str, Any]]:
        bootstrap = current.round == 0 and self.plan.bootstrap == "random"
        return ("bootstrap" if bootstrap else "start"), {}

    def _predicting(self, current: Round) -> tuple[str, dict[str, Any]]:
        pool = self.ctx.store.ids("pool")
        if not pool:
            raise ValueError("the pool is empty: add images before the next round")
        if not self._needs_predictions(current):
            self.log(f"round {current.round}: {self.plan.sampler} needs no predictions; none made")
            return "predicted", {}
        labeled = self.ctx.store.ids("labeled")  # their embeddings count for diversity
        detector = self._round_detector(current)
        prefix = f"predict:{self.plan.project}:r{current.round}"
        cut = shards.cut(
            pool + labeled, self.plan.shard_size, prefix=prefix, model_id=detector.model_id
        )
        n = shards.predict_shards(
            self.ctx.store, self.store, cut, round_index=current.round, detector=detector
        )
        self.log(f"round {current.round}: predicted {n} images ({len(pool)} in the pool)")
        return "predicted", {}

    def _sampling(self, current: Round) -> tuple[str, dict[str, Any]]:
        pool_ids = self.ctx.store.ids("pool")
        if not pool_ids:
            raise ValueError("the pool is empty: nothing left to pick")
        rng = np.random.default_rng([self.plan.seed, current.round, current.attempt])
        bootstrap = current.round == 0 and self.plan.bootstrap == "random"
        sampler: Strategy
        if bootstrap:
            pool, sampler = steps.ids_only_pool(pool_ids), RandomSampler()
        elif not self._needs_predictions(current):
            pool, sampler = steps.ids_only_pool(pool_ids), self.plan.sampler
        else:
            detector = self._round_detector(current)
            class_ap = steps.last_class_ap(self.store.rounds())
            pool = steps.selection_pool(self.ctx, pool_ids, detector=detector, class_ap=class_ap)
            sampler = self.plan.sampler
        if self._in_images(current.round):
            chosen = sampler.choose(pool, current.budget, rng=rng)
            wanted = min(current.budget, len(pool_ids))
            if len(chosen) < wanted:
                raise ValueError(
                    f"strategy {sampler} returned {len(chosen)} picks, {wanted} were asked"
                )
        else:
            chosen = self._choose_in_unit(current, sampler, pool, rng)
        picked = [str(pool_ids[i]) for i in chosen.positions]
        if not bootstrap and not self._needs_predictions(current):
            # the pool was not predicted: the picks alone, for the annotators' pre-labels
            detector = self._round_detector(current)
            steps.predict(self.ctx, picked, detector=detector, only_stale=True, progress=False)
        self._record_picks(current, picked, chosen)
        self.log(f"round {current.round}: picked {len(picked)} of {len(pool_ids)} with {sampler}")
        names = [Path(p).name for p in self.ctx.store.filepaths(picked[:5])]
        for name, reason in zip(names, chosen.reasons, strict=False):
            self.log(f"  {name}: {reason}")
        return "sampled", {"picked": picked}

    def _choose_in_unit(
        self, current: Round, sampler: Strategy, pool: Pool, rng: np.random.Generator
    ) -> Selection:
        """Picks that fill the round's budget in boxes or seconds (a prefix of the ranking)."""
        unit = self.plan.budget_unit
        if self.plan.unit_costs is None:
            raise ValueError(f"a budget in {unit} needs the plan's unit_costs (each image's cost)")
        costs = self.plan.unit_costs(list(pool.sample_ids))
        chosen = choose_within(
            sampler, pool, float(current.budget), costs, rng=rng, max_count=self._images_left()
        )
        spent = float(costs[chosen.positions].sum())
        self.log(f"round {current.round}: {len(chosen)} images, {spent:.1f} of "
                 f"{current.budget} {unit}")  # fmt: skip
        return chosen

    def _record_picks(self, current: Round, picked: list[str], chosen: Selection) -> None:
        """Keep each pick's reason and score in the state file (the round report shows them)."""
        key = f"picks:{self.plan.project}:r{current.round}:a{current.attempt}"
        scores = [None if np.isnan(s) else float(s) for s in chosen.scores.tolist()]
        payload = {"ids": picked, "reasons": list(chosen.reasons), "scores": scores}
        if self.store.intent(key, round_index=current.round, kind="picks", payload=payload) is None:
            self.store.complete_intent(key, len(picked))

    def _annotating(self, current: Round) -> tuple[str, dict[str, Any]]:
        handle = self._submitted(current)
        progress = self.ctx.annotator.poll(handle)
        if not progress.done:
            self.log(f"round {current.round}: annotated {progress.completed}/{progress.total}")
            return WAIT, {}
        return "annotated", {}

    def _importing(self, current: Round) -> tuple[str, dict[str, Any]]:
        key = f"import:{self.plan.project}:r{current.round}"
        if self.store.intent(key, round_index=current.round, kind="import", payload={}) is None:
            labels = self.ctx.annotator.fetch(self._latest_handle(current))
            left_out = steps.unlabeled_picks(current.picked or [], labels)
            if left_out:
                self.log(f"round {current.round}: {len(left_out)} picks came back unlabeled")
            self.ctx.store.set_labels(labels, round_index=current.round)
            self.store.complete_intent(key, {"labeled": len(labels)})
        return "imported", {}

    def _training(self, current: Round) -> tuple[str, dict[str, Any]]:
        key = f"train:{self.plan.project}:r{current.round}:a{current.attempt}"
        done = self.store.intent(key, round_index=current.round, kind="train", payload={})
        if done is not None and Path(done["weights"]).is_file():
            return "trained", {"model_path": done["weights"]}
        trained = steps.train(self.ctx, round_index=current.round)
        self.store.complete_intent(
            key, {"weights": str(trained.weights), "metrics": trained.metrics}
        )
        return "trained", {"model_path": str(trained.weights)}

    def _evaluating(self, current: Round) -> tuple[str, dict[str, Any]]:
        metrics = steps.evaluate(self.ctx, round_index=current.round)
        labeled = self.ctx.store.counts()["labeled"]
        self.log(
            f"round {current.round}: {labeled} labeled -> mAP50 {metrics.map50:.3f}, "
            f"mAP50-95 {metrics.map50_95:.3f}"
        )
        return "evaluated", {"metrics": {**metrics.as_dict(), "labeled": labeled}}

    def _needs_predictions(self, current: Round) -> bool:
        """Whether this round's picks read model output (random picks by image do not)."""
        return self.plan.sampler.needs_predictions or not self._in_images(current.round)

    def _round_detector(self, current: Round) -> Any:
        """The zero-shot detector in a zero-shot round 0, else the trained detector."""
        if current.round == 0 and self.plan.bootstrap == "zero_shot":
            if self.ctx.bootstrap_detector is None:
                raise ValueError("a zero-shot bootstrap needs a zero-shot detector; none is set")
            return self.ctx.bootstrap_detector
        return self.ctx.detector

    def _submitted(self, current: Round) -> str:
        """The round's annotation handle, submitting exactly once per round: a retried or
        overridden attempt reattaches to the batch (and the human work) already there."""
        key = f"{self.plan.project}-r{current.round}"
        picked = current.picked or []
        handle = self.store.intent(key, round_index=current.round, kind="annotate", payload=picked)
        if handle is None:
            steps.check_samples_exist(self.ctx, picked)
            prelabels = dict(zip(picked, self.ctx.store.predictions(picked), strict=True))
            handle = self.ctx.annotator.submit(key, picked, prelabels)
            self.store.complete_intent(key, handle)
        return str(handle)

    def _latest_handle(self, current: Round) -> str:
        """The handle of the round's last submitted batch (a retried import reuses it)."""
        handles = [
            intent["result"]
            for intent in self.store.intents(current.round)
            if intent["kind"] == "annotate" and intent["result"] is not None
        ]
        if not handles:
            raise LookupError(f"round {current.round} has no submitted annotation batch")
        return str(handles[-1])

    # -- stop rules ------------------------------------------------------------------------

    def _budget_for(self, round_index: int) -> int:
        budget = self.plan.budget
        if round_index == 0 and self.plan.bootstrap_size:
            budget = self.plan.bootstrap_size
        left = self._images_left()
        if left is not None and self._in_images(round_index):
            budget = max(0, min(budget, left))
        return budget

    def _in_images(self, round_index: int) -> bool:
        """Whether the round's budget counts images (a random round 0 always does)."""
        bootstrap = round_index == 0 and self.plan.bootstrap == "random"
        return bootstrap or self.plan.budget_unit == "images"

    def _images_left(self) -> int | None:
        """Images the label budget still allows (None: no label budget)."""
        if self.plan.stop.label_budget is None:
            return None
        return max(0, self.plan.stop.label_budget - self.ctx.store.counts()["labeled"])

    def _gain_too_small(self) -> str | None:
        """The ``min_gain`` rule: the learning curve's predicted gain of one more round."""
        rules = self.plan.stop
        assert rules.min_gain is not None
        points = curve_points(self.store)
        if self._gain_verdict is not None and self._gain_verdict[0] == len(points):
            return self._gain_verdict[1]
        images = self.plan.budget if self.plan.budget_unit == "images" else None
        decision = decide(
            points, min_gain=rules.min_gain, per=rules.min_gain_per,
            next_images=next_round_images(points, images),
        )  # fmt: skip
        self.log(f"stop rule min_gain: {decision.reason}")
        verdict = f"min_gain: {decision.reason}" if decision.stop else None
        self._gain_verdict = (len(points), verdict)
        return verdict

    def _stop_reason(self, last: Round | None) -> str | None:
        """Which stop rule holds after ``last`` (None: open the next round)."""
        if last is None:
            return None
        rules = self.plan.stop
        if last.round >= rules.max_rounds:
            return f"max_rounds {rules.max_rounds} reached"
        labeled = self.ctx.store.counts()["labeled"]
        if rules.label_budget is not None and labeled >= rules.label_budget:
            return f"label_budget {rules.label_budget} reached ({labeled} labeled)"
        reached = (last.metrics or {}).get("map50_95")
        target = rules.target_map50_95
        if target is not None and reached is not None and reached >= target:
            return f"target_map50_95 {target} reached ({reached:.3f})"
        if rules.min_gain is not None and (too_small := self._gain_too_small()):
            return too_small
        return None if self.ctx.store.ids("pool") else "the pool is empty"
