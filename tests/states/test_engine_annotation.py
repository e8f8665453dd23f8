"""The engine's annotating step: one batch per round, refused credentials wait with backoff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.protocol import (
    AnnotationCredentialsError,
    AnnotationProgress,
)
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.assembly import NoDetector
from al_object_detection.data.yolo import read_yolo
from al_object_detection.states import machine as m
from al_object_detection.states.engine import MAX_BACKOFF_DOUBLINGS, WAIT, Engine, Plan
from al_object_detection.states.steps import RoundContext
from al_object_detection.states.store import RoundStore

POLL_S = 30.0


class RefusingServer:
    """An annotator whose server refuses the credentials until ``refuse`` is cleared."""

    def __init__(self) -> None:
        self.refuse = True
        self.submitted: list[str] = []
        self.polls = 0

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        self.submitted.append(key)
        return f"handle:{key}"

    def poll(self, handle: str) -> AnnotationProgress:
        self.polls += 1
        if self.refuse:
            raise AnnotationCredentialsError("CVAT refused to sign in 'alod-bot'")
        return AnnotationProgress(completed=0, total=2)

    def fetch(self, handle: str) -> dict[str, Any]:
        raise AssertionError("not finished")


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(dataset_name: str, shapes_dir: Path, tmp_path: Path) -> Engine:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    rounds = RoundStore(tmp_path / "p.sqlite")
    rounds.open_round(0, 2, actor="engine")
    rounds.fire(0, "bootstrap", actor="engine")
    rounds.fire(0, "sampled", actor="engine", picked=store.ids("pool")[:2])
    ctx = RoundContext(store, NoDetector(), RefusingServer(), tmp_path)  # type: ignore[arg-type]
    plan = Plan(project="p", budget=2, sampler=None, poll_interval_s=POLL_S, max_attempts=1)
    return Engine(rounds, ctx, plan, log=lambda _: None, clock=Clock())


def test_refused_credentials_wait_with_backoff_and_spend_no_attempt(engine: Engine) -> None:
    server, clock = engine.ctx.annotator, engine._clock
    assert isinstance(server, RefusingServer)
    assert isinstance(clock, Clock)
    assert engine.step().trigger == WAIT
    assert engine.waiting_for is not None
    assert "refused to sign in" in engine.waiting_for
    polls_at = [1]
    for doublings in range(MAX_BACKOFF_DOUBLINGS + 2):  # 30 s, 60 s, ... capped at 480 s
        delay = POLL_S * 2 ** min(doublings, MAX_BACKOFF_DOUBLINGS)
        clock.now += delay - 1
        assert engine.step().trigger == WAIT  # still backing off: the server is left alone
        assert server.polls == polls_at[-1]
        clock.now += 1
        engine.step()
        polls_at.append(server.polls)
    assert polls_at == list(range(1, MAX_BACKOFF_DOUBLINGS + 4))
    current = engine.store.current()
    assert current is not None
    assert (current.state, current.attempt) == (m.ANNOTATING, 1)

    server.refuse = False  # the operator fixed .env
    clock.now += 10_000
    assert engine.step().trigger == WAIT  # polling again: 0 of 2 done
    assert engine.waiting_for is None


def test_a_retried_attempt_reattaches_to_the_round_s_batch(engine: Engine) -> None:
    server = engine.ctx.annotator
    assert isinstance(server, RefusingServer)
    server.refuse = False
    engine.step()
    engine.store.fire(0, "fail", actor="operator", reason="test")
    engine.store.fire(0, "retry", actor="operator", reason="test")
    engine.step()
    current = engine.store.current()
    assert current is not None
    assert (current.state, current.attempt) == (m.ANNOTATING, 2)
    assert server.submitted == ["p-r0"]  # submitted once for the round, whatever the attempt
    assert server.polls == 2
