"""The state file's schema: an existing file keeps working, a new one gets the same tables."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ("meta", "rounds", "transitions", "intents")


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """A state file written before the schema moved to sqlite-utils (round 0 annotating)."""
    path = tmp_path / "project.sqlite"
    shutil.copyfile(FIXTURES / "state-v1.sqlite", path)
    return path


def _schema(path: Path) -> dict[str, tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    db = sqlite3.connect(path)
    try:
        return {
            table: (
                db.execute(f"PRAGMA table_info({table})").fetchall(),
                db.execute(f"PRAGMA foreign_key_list({table})").fetchall(),
            )
            for table in TABLES
        }
    finally:
        db.close()


def test_an_existing_file_opens_durable_and_keeps_its_rounds(existing: Path) -> None:
    store = RoundStore(existing)
    assert sqlite3.connect(existing).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert store.meta() == {"dataset": "shapes", "project": "fixture", "budget": "8"}
    current = store.current()
    assert current is not None
    assert (current.round, current.state, current.picked) == (0, m.ANNOTATING, ["a", "b"])
    assert [t.to_state for t in store.transitions()] == [m.PENDING, m.SAMPLING, m.ANNOTATING]
    done = store.intent("annotate:0:1", round_index=0, kind="annotate", payload=["a", "b"])
    assert done == {"backend": "cvat", "task": 7}
    store.fire(0, "annotated", actor="test", expect=m.ANNOTATING)
    assert store.transitions()[-1].from_state == m.ANNOTATING
    assert store.transitions()[-1].to_state == store.get(0).state


def test_a_new_file_gets_the_schema_existing_files_have(existing: Path, tmp_path: Path) -> None:
    RoundStore(tmp_path / "new.sqlite").close()
    assert _schema(tmp_path / "new.sqlite") == _schema(existing)


def test_transitions_run_in_one_immediate_transaction_on_the_store_connection(
    tmp_path: Path,
) -> None:
    store = RoundStore(tmp_path / "project.sqlite")
    store.open_round(0, 8, actor="test")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    store.fire(0, "bootstrap", actor="test")
    store.intent("k", round_index=0, kind="annotate", payload=["a"])
    begins = [i for i, s in enumerate(statements) if s.startswith("BEGIN")]
    commits = [i for i, s in enumerate(statements) if s == "COMMIT"]
    assert [statements[i] for i in begins] == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
    assert len(commits) == 2
    writes = [i for i, s in enumerate(statements) if s.startswith(("UPDATE", "INSERT"))]
    assert all(begins[0] < i < commits[0] or begins[1] < i < commits[1] for i in writes)


def test_opening_an_up_to_date_file_writes_nothing(existing: Path) -> None:
    before = existing.read_bytes()
    RoundStore(existing).close()
    assert existing.read_bytes() == before
