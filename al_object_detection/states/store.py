"""The project's SQLite state file: rounds, the transitions log and side-effect intents.

One file per project, WAL mode with ``synchronous=FULL``; every read-then-write runs inside
``BEGIN IMMEDIATE`` so two processes (the daemon and an operator's override) never interleave.
Every transition is written in the same transaction as the round row it changes, so the log's
last line always equals the stored state. Error texts (a failed round's ``last_error``, a
transition's reason) pass through the redactor before they are written: no secret is stored.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from al_object_detection import durable_sqlite
from al_object_detection.daemon.redact import Redactor
from al_object_detection.states.machine import FAILED, PENDING, next_state


def _v1_rounds_transitions_intents(db: Database) -> None:
    """The first schema: metadata, rounds, the transitions log and side-effect intents.

    Files created before the schema was written with sqlite-utils declare ``transitions.id``
    ``AUTOINCREMENT``; the log is append-only, so ids grow the same way in both.
    """
    db.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.table("rounds").create(
        {
            "round": int, "state": str, "attempt": int, "failed_in": str, "last_error": str,
            "budget": int, "picked": str, "model_path": str, "metrics": str, "created_at": str,
            "state_since": str,
        },
        pk="round",
        not_null={"state", "attempt", "budget", "created_at", "state_since"},
        defaults={"attempt": 1},
    )  # fmt: skip
    db.table("transitions").create(
        {
            "id": int, "round": int, "from_state": str, "to_state": str, "at": str, "actor": str,
            "reason": str,
        },
        pk="id",
        not_null={"round", "from_state", "to_state", "at", "actor", "reason"},
        defaults={"reason": ""},
        foreign_keys=[("round", "rounds", "round")],
    )  # fmt: skip
    db.table("intents").create(
        {
            "key": str, "round": int, "kind": str, "payload": str, "result": str,
            "created_at": str, "done_at": str,
        },
        pk="key",
        not_null={"round", "kind", "payload", "created_at"},
    )  # fmt: skip


_MIGRATIONS: list[durable_sqlite.Migration] = [_v1_rounds_transitions_intents]


class StateFileError(RuntimeError):
    """A state file this version cannot use (newer schema, another dataset, corrupt)."""


@dataclass(frozen=True)
class Round:
    """One round as stored."""

    round: int
    state: str
    attempt: int
    failed_in: str | None
    last_error: str | None
    budget: int
    picked: list[str] | None
    model_path: str | None
    metrics: dict[str, Any] | None
    created_at: str
    state_since: str


@dataclass(frozen=True)
class Transition:
    """One line of the append-only transitions log."""

    round: int
    from_state: str
    to_state: str
    at: str
    actor: str
    reason: str


def now() -> str:
    """UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RoundStore:
    """Typed access to one project's state file."""

    def __init__(self, path: Path | str, *, redactor: Redactor | None = None) -> None:
        self.path = Path(path)
        self.redactor = redactor or Redactor()
        self._db = durable_sqlite.connect(self.path)
        self._db.execute("PRAGMA foreign_keys=ON")
        try:
            durable_sqlite.migrate(self._db, _MIGRATIONS, path=self.path)
        except durable_sqlite.NewerSchemaError as error:
            raise StateFileError(str(error)) from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        return durable_sqlite.immediate(self._db)

    # -- metadata --------------------------------------------------------------------------

    def bind(self, **identity: str) -> None:
        """Record what this file belongs to; refuse a file that belongs to something else."""
        with self.transaction() as db:
            for key, value in identity.items():
                row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
                elif row["value"] != value:
                    raise StateFileError(
                        f"{self.path} belongs to {key} {row['value']!r}, not {value!r}; "
                        "use another state file for this project"
                    )

    def meta(self) -> dict[str, str]:
        """Everything recorded by :meth:`bind` (and the settings saved with it)."""
        rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {row["key"]: row["value"] for row in rows}

    def set_meta(self, key: str, value: str) -> None:
        """Record (or replace) one metadata value."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def copy_to(self, path: Path, **meta: str) -> RoundStore:
        """A consistent copy of this file (SQLite's backup API) with some metadata replaced."""
        target = sqlite3.connect(path)
        self._db.backup(target)
        target.close()
        copy = RoundStore(path)
        for key, value in meta.items():
            copy.set_meta(key, value)
        return copy

    # -- rounds ----------------------------------------------------------------------------

    def current(self) -> Round | None:
        """The latest round, or None before the first."""
        row = self._db.execute("SELECT * FROM rounds ORDER BY round DESC LIMIT 1").fetchone()
        return _round(row) if row else None

    def get(self, round_index: int) -> Round:
        """One round; KeyError if absent."""
        row = self._db.execute("SELECT * FROM rounds WHERE round = ?", (round_index,)).fetchone()
        if row is None:
            raise KeyError(f"no round {round_index} in {self.path}")
        return _round(row)

    def rounds(self) -> list[Round]:
        """All rounds, oldest first."""
        return [_round(r) for r in self._db.execute("SELECT * FROM rounds ORDER BY round")]

    def open_round(self, round_index: int, budget: int, *, actor: str) -> Round:
        """Create round ``round_index`` in ``pending`` (idempotent)."""
        with self.transaction() as db:
            exists = db.execute("SELECT 1 FROM rounds WHERE round = ?", (round_index,)).fetchone()
            if not exists:
                at = now()
                db.execute(
                    "INSERT INTO rounds (round, state, budget, created_at, state_since)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (round_index, PENDING, budget, at, at),
                )
                _log(db, round_index, "", PENDING, at, actor, "round opened")
        return self.get(round_index)

    def fire(
        self,
        round_index: int,
        trigger: str,
        *,
        actor: str,
        reason: str = "",
        expect: str | None = None,
        **updates: Any,
    ) -> Round:
        """Apply ``trigger`` (checked against the table) with column ``updates``, atomically.

        ``expect`` guards against a concurrent change: the round must still be in that state.
        """
        with self.transaction() as db:
            current = _round(
                db.execute("SELECT * FROM rounds WHERE round = ?", (round_index,)).fetchone()
            )
            if expect is not None and current.state != expect:
                raise StateChanged(f"round {round_index} is {current.state!r}, expected {expect!r}")
            target = next_state(current.state, trigger, failed_in=current.failed_in)
            self._write(db, current, target, actor=actor, reason=reason, updates=updates)
        return self.get(round_index)

    def force(self, round_index: int, target: str, *, actor: str, reason: str) -> Round:
        """Move a round to ``target`` outside the table (an audited operator override)."""
        with self.transaction() as db:
            current = _round(
                db.execute("SELECT * FROM rounds WHERE round = ?", (round_index,)).fetchone()
            )
            self._write(db, current, target, actor=actor, reason=f"forced: {reason}", updates={})
        return self.get(round_index)

    def update(self, round_index: int, **updates: Any) -> None:
        """Set columns of a round without a transition (picks, model path, metrics)."""
        with self.transaction() as db:
            _set(db, round_index, self._redacted(updates))

    def _write(
        self, db: sqlite3.Connection, current: Round, target: str, *, actor: str, reason: str,
        updates: dict[str, Any],
    ) -> None:  # fmt: skip
        at, reason = now(), self.redactor.text(reason)
        columns = dict(self._redacted(updates), state=target, state_since=at)
        if target == FAILED:
            columns["failed_in"] = current.state
            columns.setdefault("last_error", reason)
        elif current.state == FAILED:
            columns["attempt"] = current.attempt + 1
        _set(db, current.round, columns)
        _log(db, current.round, current.state, target, at, actor, reason)

    def _redacted(self, updates: dict[str, Any]) -> dict[str, Any]:
        error = updates.get("last_error")
        return updates if error is None else dict(updates, last_error=self.redactor.text(error))

    # -- transitions log -------------------------------------------------------------------

    def transitions(self, round_index: int | None = None) -> list[Transition]:
        """The log, oldest first (all rounds, or one)."""
        if round_index is None:
            rows = self._db.execute("SELECT * FROM transitions ORDER BY id")
        else:
            rows = self._db.execute(
                "SELECT * FROM transitions WHERE round = ? ORDER BY id", (round_index,)
            )
        return [
            Transition(r["round"], r["from_state"], r["to_state"], r["at"], r["actor"], r["reason"])
            for r in rows
        ]

    # -- intents ---------------------------------------------------------------------------

    def intent(self, key: str, *, round_index: int, kind: str, payload: Any) -> Any | None:
        """Record that side effect ``key`` is about to happen; its result if it already did."""
        with self.transaction() as db:
            row = db.execute("SELECT result FROM intents WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO intents (key, round, kind, payload, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (key, round_index, kind, json.dumps(payload), now()),
                )
                return None
        return json.loads(row["result"]) if row["result"] is not None else None

    def complete_intent(self, key: str, result: Any) -> None:
        """Record the outcome of side effect ``key``."""
        with self.transaction() as db:
            db.execute(
                "UPDATE intents SET result = ?, done_at = ? WHERE key = ?",
                (json.dumps(result), now(), key),
            )

    def intents(self, round_index: int | None = None) -> list[dict[str, Any]]:
        """Recorded intents, oldest first; payloads and results decoded as :meth:`intent`
        returns them (a result is None until the side effect is recorded done)."""
        rows = self._db.execute("SELECT * FROM intents ORDER BY rowid").fetchall()
        return [
            _decoded_intent(r) for r in rows if round_index is None or r["round"] == round_index
        ]


class StateChanged(RuntimeError):
    """The round changed under us (another process moved it)."""


_COLUMNS = {"state", "attempt", "failed_in", "last_error", "budget", "picked", "model_path",
            "metrics", "state_since"}  # fmt: skip
_JSON_COLUMNS = {"picked", "metrics"}


def _set(db: sqlite3.Connection, round_index: int, columns: dict[str, Any]) -> None:
    unknown = set(columns) - _COLUMNS
    if unknown:
        raise ValueError(f"unknown round columns {sorted(unknown)}")
    values = [
        json.dumps(v) if k in _JSON_COLUMNS and v is not None else v for k, v in columns.items()
    ]
    assignments = ", ".join(f"{k} = ?" for k in columns)
    db.execute(f"UPDATE rounds SET {assignments} WHERE round = ?", (*values, round_index))


def _log(db: sqlite3.Connection, round_index: int, source: str, target: str, at: str, actor: str,
         reason: str) -> None:  # fmt: skip
    db.execute(
        "INSERT INTO transitions (round, from_state, to_state, at, actor, reason)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (round_index, source, target, at, actor, reason),
    )


def _decoded_intent(row: sqlite3.Row) -> dict[str, Any]:
    result = row["result"]
    decoded = json.loads(result) if result is not None else None
    return {**dict(row), "payload": json.loads(row["payload"]), "result": decoded}


def _round(row: sqlite3.Row | None) -> Round:
    if row is None:
        raise KeyError("no such round")
    return Round(
        round=row["round"],
        state=row["state"],
        attempt=row["attempt"],
        failed_in=row["failed_in"],
        last_error=row["last_error"],
        budget=row["budget"],
        picked=json.loads(row["picked"]) if row["picked"] else None,
        model_path=row["model_path"],
        metrics=json.loads(row["metrics"]) if row["metrics"] else None,
        created_at=row["created_at"],
        state_since=row["state_since"],
    )
