"""What the README tells an operator to run on a state file: it reads, while the daemon writes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore


def sqlite_utils(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", *args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout


def test_sqlite_utils_reads_committed_rounds_during_a_transition(tmp_path: Path) -> None:
    path = tmp_path / "trees.sqlite"
    store = RoundStore(path)
    store.open_round(0, 8, actor="engine")
    store.fire(0, "bootstrap", actor="engine")
    with store.transaction() as db:  # the daemon in the middle of a transition
        db.execute("UPDATE rounds SET state = ? WHERE round = 0", (m.ANNOTATING,))
        tables = json.loads(sqlite_utils("tables", str(path), "--counts"))
        rounds = json.loads(sqlite_utils("rows", str(path), "rounds"))
        log = json.loads(sqlite_utils("rows", str(path), "transitions"))
    counts = {t["table"]: t["count"] for t in tables}
    assert (counts["rounds"], counts["transitions"]) == (1, 2)
    assert [r["state"] for r in rounds] == [m.SAMPLING]  # not the uncommitted change
    assert [t["to_state"] for t in log] == [m.PENDING, m.SAMPLING]
    assert store.get(0).state == m.ANNOTATING


def test_the_read_only_open_refuses_writes(tmp_path: Path) -> None:
    import sqlite_utils as su

    path = tmp_path / "trees.sqlite"
    RoundStore(path).open_round(0, 8, actor="engine")
    db = su.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    assert [row["state"] for row in db["rounds"].rows] == [m.PENDING]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM rounds")
