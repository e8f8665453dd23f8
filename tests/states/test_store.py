from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore, StateChanged, StateFileError


@pytest.fixture
def store(tmp_path: Path) -> RoundStore:
    return RoundStore(tmp_path / "project.sqlite")


def test_pragmas_make_a_durable_file(store: RoundStore) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_round_walks_the_table_and_logs_every_step(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    store.fire(0, "bootstrap", actor="test")
    store.fire(0, "sampled", actor="test", picked=["a", "b"])
    current = store.current()
    assert current is not None
    assert (current.state, current.picked, current.budget) == (m.ANNOTATING, ["a", "b"], 8)
    log = store.transitions(0)
    assert [(t.from_state, t.to_state) for t in log] == [
        ("", m.PENDING),
        (m.PENDING, m.SAMPLING),
        (m.SAMPLING, m.ANNOTATING),
    ]
    assert log[-1].to_state == current.state


def test_illegal_trigger_changes_nothing(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    with pytest.raises(m.IllegalTransition):
        store.fire(0, "trained", actor="test")
    assert store.get(0).state == m.PENDING
    assert len(store.transitions()) == 1


def test_fail_then_retry_counts_attempts(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    store.fire(0, "start", actor="test")
    store.fire(0, "fail", actor="test", reason="boom")
    failed = store.get(0)
    assert (failed.state, failed.failed_in, failed.last_error, failed.attempt) == (
        m.FAILED, m.PREDICTING, "boom", 1,
    )  # fmt: skip
    store.fire(0, "retry", actor="test")
    assert (store.get(0).state, store.get(0).attempt) == (m.PREDICTING, 2)


def test_expected_state_guards_concurrent_moves(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    other = RoundStore(store.path)
    other.fire(0, "cancel", actor="operator", reason="stop")
    with pytest.raises(StateChanged):
        store.fire(0, "start", actor="engine", expect=m.PENDING)


def test_intents_are_recorded_before_and_checked_after(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    assert store.intent("k", round_index=0, kind="annotate", payload=["a"]) is None
    assert store.intent("k", round_index=0, kind="annotate", payload=["a"]) is None  # pending
    store.complete_intent("k", "handle-1")
    assert store.intent("k", round_index=0, kind="annotate", payload=["a"]) == "handle-1"
    assert len(store.intents(0)) == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateFileError, match="schema version 99, newer than"):
        RoundStore(path)


def test_a_state_file_of_another_dataset_is_refused(store: RoundStore) -> None:
    store.bind(dataset="trees")
    store.bind(dataset="trees")
    with pytest.raises(StateFileError, match="belongs to dataset 'trees', not 'cars'"):
        RoundStore(store.path).bind(dataset="cars")


def test_forced_moves_are_audited(store: RoundStore) -> None:
    store.open_round(0, 8, actor="test")
    store.force(0, m.TRAINING, actor="alice", reason="labels fixed by hand")
    last = store.transitions(0)[-1]
    assert (last.from_state, last.to_state, last.actor) == (m.PENDING, m.TRAINING, "alice")
    assert last.reason == "forced: labels fixed by hand"
