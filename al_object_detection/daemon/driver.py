"""Advances rounds: short steps in the daemon, long ones in the worker; the store decides.

``advance`` is the scheduler's job. It reads the current round from the store, runs steps
until the annotators are awaited, a stop rule holds, an operator paused the daemon or it is
shutting down, and records what it must: an attempt interrupted by shutdown is failed with
``INTERRUPTED`` (and retried by the next start), a worker that keeps dying fails the round.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager

import structlog

from al_object_detection.daemon.daemondb import DaemonDB
from al_object_detection.daemon.logstream import LogContext
from al_object_detection.daemon.metrics import StepTimes
from al_object_detection.daemon.workerproc import ABORTED, DIED, SKIPPED, STEPPED, WorkerProcess
from al_object_detection.states import machine as m
from al_object_detection.states.engine import WAIT, Engine, RoundFailed
from al_object_detection.states.store import Round, RoundStore, StateChanged

log = structlog.get_logger("alod.driver")

INTERRUPTED = "interrupted by shutdown"
MAX_WORKER_DEATHS = 3
_CHECK_STORE_S = 1.0
WAITING_FOR_OPERATOR = "waiting for operator"
CREDENTIALS_HINT = (
    "fix the annotation server's credentials (.env, $CREDENTIALS_DIRECTORY or the "
    "environment); the round resumes by itself, no restart needed"
)
IDLE_DETAIL = "all rounds are done; the daemon stays up for status, ingestion and overrides"

# why advance() returned
WAITING, DONE, PAUSED, STOPPING, NEEDS_OPERATOR, ERRORED = (
    "wait", "done", "paused", "stopping", "needs_operator", "error",
)  # fmt: skip


class Driver:
    """The round-advancing job and what it remembers between runs."""

    def __init__(
        self,
        *,
        make_engine: Callable[[], Engine],
        make_daemon_db: Callable[[], DaemonDB],
        pool_lock: Callable[[], AbstractContextManager[None]],
        worker: WorkerProcess,
        context: LogContext,
        steps: StepTimes,
    ) -> None:
        self.make_engine, self.make_daemon_db, self.pool_lock = (
            make_engine,
            make_daemon_db,
            pool_lock,
        )
        self.worker, self.context, self.steps = worker, context, steps
        self.stopping = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.last: str | None = None
        self.last_error: str | None = None
        self.last_beat = time.monotonic()
        self._engine: Engine | None = None
        self._daemon_db: DaemonDB | None = None
        self._deaths: Counter[tuple[int, str, int]] = Counter()
        self._reported: tuple[int, int] | None = None
        self._paused = False
        self._waiting = False

    def advance(self) -> str:
        """Run steps until there is nothing to do now; returns why it stopped."""
        self.idle.clear()
        self.beat()
        try:
            reason = self._advance()
            if reason != STOPPING and self.worker.running:
                self.worker.stop()  # nothing long to do now: free the worker's memory
        finally:
            self.idle.set()
        self.last = reason
        return reason

    def beat(self) -> None:
        """Note that the job is alive (the health check reads it)."""
        self.last_beat = time.monotonic()

    def healthy(self, max_silence_s: float) -> bool:
        """Idle, or alive within ``max_silence_s``."""
        return self.idle.is_set() or time.monotonic() - self.last_beat < max_silence_s

    def _advance(self) -> str:
        if self._engine is None:  # built in the job's thread: its SQLite connection lives there
            self._engine, self._daemon_db = self.make_engine(), self.make_daemon_db()
        engine, daemon_db = self._engine, self._daemon_db
        assert daemon_db is not None
        while True:
            if self.stopping.is_set():
                return STOPPING
            if self._pause_state(daemon_db):
                return PAUSED
            current = engine.store.current()
            self._bind(current)
            self.beat()
            if current is not None and current.state in m.IN_WORKER:
                reason = self._in_worker(engine.store, current)
                if reason is not None:
                    return reason
                continue
            try:
                with self.pool_lock():  # opening a round to predicting must not race new samples
                    started = time.monotonic()
                    result = engine.step()
            except RoundFailed as error:
                self._needs_operator(error, current)
                return NEEDS_OPERATOR
            if current is not None:
                self.steps.observe(current.state, time.monotonic() - started)
            self._operator_wait(engine.waiting_for)
            if result.trigger == WAIT:
                return WAITING
            if result.trigger == "done":
                if self.last != DONE:
                    log.info("idle", reason=engine.stop_reason, detail=IDLE_DETAIL)
                return DONE
            self.last_error = None  # the round moved on: an old error no longer applies

    def _in_worker(self, store: RoundStore, current: Round) -> str | None:
        log.info("worker_step", round=current.round, state=current.state)
        outcome = self.worker.step(
            current.round,
            current.state,
            self.context.snapshot(),
            abort=self._abort_check(store, current),
            beat=self.beat,
        )
        key = (current.round, current.state, current.attempt)
        if outcome.kind == STEPPED:
            self.steps.observe(current.state, outcome.seconds)
            self._deaths.pop(key, None)
            if outcome.trigger == WAIT:  # e.g. the annotation server is down while importing
                return WAITING
            self.last_error = None
            return None
        if outcome.kind == SKIPPED:
            return None
        if self.stopping.is_set():
            self._fail(store, current, INTERRUPTED)
            return STOPPING
        if _changed(store, current):
            log.info("worker_stopped", detail=outcome.detail, cause="the round changed under it")
            return None
        if outcome.kind == ABORTED:
            return None
        if outcome.kind == DIED:
            self._deaths[key] += 1
            deaths = self._deaths[key]
            if deaths < MAX_WORKER_DEATHS:
                log.warning("worker_died", detail=outcome.detail, deaths=deaths, next="run again")
                return None
            self._fail(store, current, f"the worker died {deaths} times: {outcome.detail}")
            del self._deaths[key]
            return None
        if outcome.config_error:  # starting the worker again cannot help: the round fails
            log.error("worker_config_error", detail=outcome.detail, next="the round fails")
            self._fail(store, current, f"the worker cannot start: {outcome.detail}")
            return None
        if outcome.detail != self.last_error:  # the same error at every poll: logged once
            log.error("worker_error", detail=outcome.detail, next="retry at every poll")
        self.last_error = outcome.detail
        return ERRORED

    def _abort_check(self, store: RoundStore, current: Round) -> Callable[[], str | None]:
        checked = [time.monotonic()]

        def abort() -> str | None:
            if self.stopping.is_set():
                return "shutdown"
            if time.monotonic() - checked[0] >= _CHECK_STORE_S:
                checked[0] = time.monotonic()
                if _changed(store, current):
                    return "the round changed"
            return None

        return abort

    def _fail(self, store: RoundStore, current: Round, reason: str) -> None:
        try:
            store.fire(current.round, "fail", actor="daemon", reason=reason, expect=current.state)
        except StateChanged:
            return

    def _pause_state(self, daemon_db: DaemonDB) -> bool:
        paused = daemon_db.paused()
        if (paused is not None) != self._paused:
            self._paused = paused is not None
            if paused is None:
                log.info("resumed")
            else:
                log.warning("paused", by=paused["who"], at=paused["at"], reason=paused["reason"])
        return self._paused

    def _operator_wait(self, reason: str | None) -> None:
        """Show (and log once) that the round waits for an operator; clear it once over."""
        text = None if reason is None else f"{WAITING_FOR_OPERATOR}: {reason}"
        if text == self.last_error or (text is None and not self._waiting):
            return
        if text is None:
            log.info("operator_wait_over")
        else:
            log.error("round_waits_for_operator", error=reason, hint=CREDENTIALS_HINT)
        self._waiting = text is not None
        self.last_error = text

    def _needs_operator(self, error: RoundFailed, current: Round | None) -> None:
        self.last_error = str(error)
        key = (current.round, current.attempt) if current else (-1, 0)
        if key != self._reported:
            self._reported = key
            log.error(
                "round_needs_operator",
                error=str(error),
                hint="alod override retry --reason TEXT --yes (or cancel)",
            )

    def _bind(self, current: Round | None) -> None:
        if current is None:
            self.context.bind(round=None, state=None, attempt=None)
        else:
            self.context.bind(round=current.round, state=current.state, attempt=current.attempt)


def resume_interrupted(rounds: RoundStore) -> Round | None:
    """Retry a round that a shutdown interrupted (it does not count against max attempts)."""
    current = rounds.current()
    if current is None or current.state != m.FAILED or current.last_error != INTERRUPTED:
        return None
    return rounds.fire(current.round, "retry", actor="daemon", reason="resumed after shutdown")


def _changed(store: RoundStore, seen: Round) -> bool:
    now = store.current()
    return now is None or (now.round, now.state, now.attempt) != (
        seen.round,
        seen.state,
        seen.attempt,
    )
