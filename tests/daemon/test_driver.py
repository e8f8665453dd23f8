"""The round driver's decisions, with a scripted worker and engine over a real round store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from al_object_detection.daemon import driver as d
from al_object_detection.daemon.daemondb import PAUSED, DaemonDB
from al_object_detection.daemon.logstream import LogContext
from al_object_detection.daemon.metrics import StepTimes
from al_object_detection.daemon.workerproc import ABORTED, DIED, ERROR, STEPPED, Outcome
from al_object_detection.states import machine as m
from al_object_detection.states.engine import WAIT, RoundFailed, StepResult
from al_object_detection.states.store import RoundStore


class ScriptedWorker:
    """Plays the worker: each step runs ``script``'s next function on the store."""

    def __init__(self, store: RoundStore, script: list[Callable[[], Outcome]]) -> None:
        self.store, self.script, self.calls, self.stopped = store, script, 0, 0
        self.running = False

    def step(
        self, round_index: int, state: str, context: dict[str, Any], *, abort: Any, beat: Any
    ) -> Outcome:
        self.calls += 1
        self.running = True
        return self.script.pop(0)()

    def stop(self, timeout_s: float | None = None) -> int:
        self.stopped += 1
        self.running = False
        return 0


class ScriptedEngine:
    """Plays the daemon's short-step engine."""

    def __init__(self, store: RoundStore, steps: list[Callable[[], StepResult]]) -> None:
        self.store, self.steps = store, steps
        self.waiting_for: str | None = None
        self.stop_reason: str | None = None

    def step(self) -> StepResult:
        return self.steps.pop(0)()


@contextmanager
def no_lock() -> Iterator[None]:
    yield


@pytest.fixture
def store(tmp_path: Path) -> RoundStore:
    rounds = RoundStore(tmp_path / "p.sqlite")
    rounds.open_round(0, 2, actor="engine")
    rounds.fire(0, "bootstrap", actor="engine")
    return rounds


def make_driver(
    tmp_path: Path, store: RoundStore, worker: ScriptedWorker, engine: ScriptedEngine
) -> d.Driver:
    return d.Driver(
        make_engine=lambda: engine,  # type: ignore[arg-type,return-value]
        make_daemon_db=lambda: DaemonDB(tmp_path / "p.daemon.sqlite"),
        pool_lock=no_lock,
        worker=worker,  # type: ignore[arg-type]
        context=LogContext(),
        steps=StepTimes(),
    )


def fire(store: RoundStore, trigger: str, **updates: Any) -> Callable[[], Outcome]:
    def run() -> Outcome:
        store.fire(0, trigger, actor="worker", **updates)
        return Outcome(STEPPED, trigger=trigger, seconds=0.1)

    return run


def wait(store: RoundStore) -> Callable[[], StepResult]:
    return lambda: StepResult(WAIT, store.current())  # type: ignore[arg-type]


def test_long_steps_go_to_the_worker_short_ones_stay_here(
    tmp_path: Path, store: RoundStore
) -> None:
    worker = ScriptedWorker(store, [fire(store, "sampled", picked=["a"])])
    engine = ScriptedEngine(store, [wait(store)])
    driver = make_driver(tmp_path, store, worker, engine)
    assert driver.advance() == d.WAITING
    assert worker.calls == 1
    assert store.current().state == m.ANNOTATING  # type: ignore[union-attr]
    assert worker.stopped == 1  # idle now: the worker's memory is freed
    assert {state for state, _, _ in driver.steps.totals()} == {m.SAMPLING, m.ANNOTATING}


def test_a_dying_worker_is_retried_then_the_round_fails(tmp_path: Path, store: RoundStore) -> None:
    died = [lambda: Outcome(DIED, detail="worker exited with code -9")] * d.MAX_WORKER_DEATHS
    worker = ScriptedWorker(store, list(died))
    engine = ScriptedEngine(store, [wait(store)])
    engine.steps = [lambda: _raise(RoundFailed("round 0 failed 1 times"))]
    driver = make_driver(tmp_path, store, worker, engine)
    assert driver.advance() == d.NEEDS_OPERATOR
    assert worker.calls == d.MAX_WORKER_DEATHS
    current = store.current()
    assert current is not None
    assert (current.state, current.failed_in) == (m.FAILED, m.SAMPLING)
    assert "the worker died 3 times" in (current.last_error or "")
    assert driver.last_error == "round 0 failed 1 times"


def test_shutdown_records_the_interrupted_attempt_and_the_next_start_retries_it(
    tmp_path: Path, store: RoundStore
) -> None:
    def interrupted() -> Outcome:
        driver.stopping.set()
        return Outcome(ABORTED, detail="shutdown")

    driver = make_driver(
        tmp_path, store, ScriptedWorker(store, [interrupted]), ScriptedEngine(store, [])
    )
    assert driver.advance() == d.STOPPING
    current = store.current()
    assert current is not None
    assert (current.state, current.last_error) == (m.FAILED, d.INTERRUPTED)
    resumed = d.resume_interrupted(store)
    assert resumed is not None
    assert (resumed.state, resumed.attempt) == (m.SAMPLING, 2)
    assert store.transitions(0)[-1].reason == "resumed after shutdown"
    assert d.resume_interrupted(store) is None


def test_a_round_moved_under_the_worker_is_followed(tmp_path: Path, store: RoundStore) -> None:
    def overridden() -> Outcome:
        store.force(0, m.CANCELLED, actor="override:alice", reason="stop it")
        return Outcome(ABORTED, detail="the round changed")

    done = lambda: StepResult("done", store.current())  # type: ignore[arg-type]  # noqa: E731
    driver = make_driver(
        tmp_path, store, ScriptedWorker(store, [overridden]), ScriptedEngine(store, [done])
    )
    assert driver.advance() == d.DONE
    assert store.current().state == m.CANCELLED  # type: ignore[union-attr]


def test_a_worker_error_is_reported_and_tried_again_later(
    tmp_path: Path, store: RoundStore
) -> None:
    error = lambda: Outcome(ERROR, detail="OperationalError: disk I/O error")  # noqa: E731
    driver = make_driver(tmp_path, store, ScriptedWorker(store, [error]), ScriptedEngine(store, []))
    assert driver.advance() == d.ERRORED
    assert driver.last_error == "OperationalError: disk I/O error"
    assert store.current().state == m.SAMPLING  # type: ignore[union-attr]


def test_paused_takes_no_work_until_resumed(tmp_path: Path, store: RoundStore) -> None:
    daemon = DaemonDB(tmp_path / "p.daemon.sqlite")
    daemon.put(PAUSED, {"who": "alice", "at": "now", "reason": "server down"})
    worker = ScriptedWorker(store, [fire(store, "sampled", picked=["a"])])
    driver = make_driver(tmp_path, store, worker, ScriptedEngine(store, [wait(store)]))
    with structlog.testing.capture_logs() as logs:
        assert driver.advance() == d.PAUSED
        assert driver.advance() == d.PAUSED
        daemon.put(PAUSED, None)
        assert driver.advance() == d.WAITING
    assert [e["event"] for e in logs if e["event"] in ("paused", "resumed")] == [
        "paused",
        "resumed",
    ]
    assert worker.calls == 1


def _raise(error: Exception) -> StepResult:
    raise error


def test_an_operator_wait_is_shown_logged_once_and_cleared_when_it_is_over(
    tmp_path: Path, store: RoundStore
) -> None:
    store.fire(0, "sampled", actor="worker", picked=["a"])
    engine = ScriptedEngine(store, [])

    def refused() -> StepResult:
        engine.waiting_for = "CVAT refused to sign in"
        return StepResult(WAIT, store.current())  # type: ignore[arg-type]

    def accepted() -> StepResult:
        engine.waiting_for = None
        return StepResult(WAIT, store.current())  # type: ignore[arg-type]

    engine.steps = [refused, refused, accepted]
    driver = make_driver(tmp_path, store, ScriptedWorker(store, []), engine)
    with capture_logs() as logs:
        assert driver.advance() == d.WAITING
        assert driver.last_error == f"{d.WAITING_FOR_OPERATOR}: CVAT refused to sign in"
        assert driver.advance() == d.WAITING
        assert driver.advance() == d.WAITING
    assert driver.last_error is None
    waits = [e for e in logs if e["event"] == "round_waits_for_operator"]
    assert [(e["log_level"], e["hint"]) for e in waits] == [("error", d.CREDENTIALS_HINT)]
    assert [e["event"] for e in logs].count("operator_wait_over") == 1


def test_the_daemon_says_once_why_it_is_idle(tmp_path: Path, store: RoundStore) -> None:
    engine = ScriptedEngine(store, [])
    engine.stop_reason = "max_rounds 0 reached"
    done = lambda: StepResult("done", store.current())  # type: ignore[arg-type]  # noqa: E731
    engine.steps = [done, done]
    store.fire(0, "cancel", actor="operator")
    driver = make_driver(tmp_path, store, ScriptedWorker(store, []), engine)
    with capture_logs() as logs:
        assert driver.advance() == d.DONE
        assert driver.advance() == d.DONE
    idle = [e for e in logs if e["event"] == "idle"]
    assert [e["reason"] for e in idle] == ["max_rounds 0 reached"]
