"""The daemon's file: durable, and one written before its schema was versioned still opens."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from al_object_detection.daemon.daemondb import LOGGED_TRANSITIONS, PAUSED, DaemonDB, Override

FIXTURE = Path(__file__).parent / "fixtures" / "unversioned.daemon.sqlite"


def _columns(path: Path, table: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        db.close()


def test_an_unversioned_file_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.daemon.sqlite"
    shutil.copyfile(FIXTURE, path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 0
    daemon = DaemonDB(path)
    assert daemon._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert daemon._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert daemon._db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert daemon.paused() == {"who": "operator", "reason": "maintenance"}
    assert daemon.get(LOGGED_TRANSITIONS) == 3
    daemon.record(Override("2026-01-02T00:00:00+00:00", "operator", "resume", None, None, None,
                           "done", False))  # fmt: skip
    daemon.put(PAUSED, None)
    assert [o.action for o in daemon.overrides()] == ["pause", "resume"]
    assert daemon.paused() is None


def test_a_new_file_gets_the_tables_an_old_one_has(tmp_path: Path) -> None:
    old, new = tmp_path / "old.daemon.sqlite", tmp_path / "new.daemon.sqlite"
    shutil.copyfile(FIXTURE, old)
    DaemonDB(new).close()
    for table in ("overrides", "facts"):
        assert _columns(new, table) == _columns(old, table)
