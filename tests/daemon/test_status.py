"""``status`` reads the round store and the daemon's file; ``translog`` replays transitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.credentials import SecretSource
from al_object_detection.daemon.daemondb import SNAPSHOT, DaemonDB, Override
from al_object_detection.daemon.logstream import LogContext
from al_object_detection.daemon.settings import load_config
from al_object_detection.daemon.status import collect_status, render_status, status_json
from al_object_detection.daemon.translog import TransitionLog
from al_object_detection.states.store import RoundStore

from .tiny import write_project


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return load_config(write_project(tmp_path, "status-data"))


def test_a_project_that_never_ran(config: Any) -> None:
    status = collect_status(config)
    assert status["round"] is None
    assert status["daemon"] == {"running": False, "pid": None, "paused": None}
    assert "no round yet" in render_status(status)


def test_round_counts_links_overrides_and_map(config: Any) -> None:
    rounds = RoundStore(config.project.paths.state_file)
    rounds.open_round(0, 2, actor="daemon")
    metrics = {"map50": 0.5, "map50_95": 0.25}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("bootstrap", {}), ("sampled", {"picked": ["a", "b"]}), ("annotated", {}),
        ("imported", {}), ("trained", {}), ("evaluated", {"metrics": metrics}),
    ]  # fmt: skip
    for trigger, updates in steps:
        rounds.fire(0, trigger, actor="worker", **updates)
    rounds.open_round(1, 2, actor="daemon")
    rounds.fire(1, "start", actor="daemon")
    rounds.fire(1, "fail", actor="worker", reason="ValueError: boom")
    handle = json.dumps({"backend": "cvat", "key": "tiny-r1-a1", "tasks": [7, 8], "sample_ids": []})
    rounds.intent("tiny-r1-a1", round_index=1, kind="annotate", payload=[])
    rounds.complete_intent("tiny-r1-a1", handle)
    daemon = DaemonDB(config.project.paths.daemon_db)
    daemon.record(Override("t", "alice", "cancel", 1, "failed", "cancelled", "why not", False))
    daemon.put(SNAPSHOT, {"at": "t0", "counts": {"pool": 20, "labeled": 2, "val": 8}})
    source = SecretSource({"FIFTYONE_CVAT_URL": "https://cvat.example/"})

    status = collect_status(config, source=source)
    assert status["round"]["round"] == 1
    assert (status["round"]["state"], status["round"]["attempt"]) == ("failed", 1)
    assert status["round"]["last_error"] == "ValueError: boom"
    assert status["counts"] == {
        "picked": 2, "quarantined": 0, "pool": 20, "labeled": 2, "val": 8, "as_of": "t0",
    }  # fmt: skip
    assert status["annotation"] == [
        {"round": 1, "key": "tiny-r1-a1",
         "links": ["https://cvat.example/tasks/7", "https://cvat.example/tasks/8"]},
    ]  # fmt: skip
    assert [r["map50_95"] for r in status["rounds"]] == [0.25, None]
    assert status["overrides"][0]["who"] == "alice"
    text = render_status(status)
    assert "round 1: failed for" in text
    assert "https://cvat.example/tasks/7" in text
    assert "round 0: completed  mAP50-95 0.250" in text
    assert "alice cancel round 1: failed -> cancelled: why not" in text
    assert json.loads(status_json(status))["project"] == "tiny"


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, **fields})


def test_each_transition_is_logged_once_in_order_with_its_attempt(tmp_path: Path) -> None:
    rounds = RoundStore(tmp_path / "p.sqlite")
    daemon = DaemonDB(tmp_path / "p.daemon.sqlite")
    context, log = LogContext(), Recorder()
    translog = TransitionLog(rounds, daemon, log, context)
    rounds.open_round(0, 2, actor="daemon")
    rounds.fire(0, "bootstrap", actor="daemon")
    assert translog.catch_up() == 2
    assert translog.catch_up() == 0
    rounds.fire(0, "fail", actor="worker", reason="boom")
    rounds.fire(0, "retry", actor="daemon", reason="automatic retry")
    # a new process (after a crash) goes on from the cursor in the daemon's file
    again = TransitionLog(
        RoundStore(tmp_path / "p.sqlite"), DaemonDB(tmp_path / "p.daemon.sqlite"), log, context
    )
    assert again.catch_up() == 2
    moves = [(e["from"], e["to"]) for e in log.events]
    assert moves == [("", "pending"), ("pending", "sampling"), ("sampling", "failed"),
                     ("failed", "sampling")]  # fmt: skip
    assert log.events[-1]["reason"] == "automatic retry"
    assert context.snapshot() == {"round": 0, "state": "sampling", "attempt": 2}
