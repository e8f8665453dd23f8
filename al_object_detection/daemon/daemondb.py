"""The daemon's own SQLite file, next to the round store: overrides, pause, snapshots.

The round store stays the truth about rounds; this file holds what only the daemon and
its operators need: the audit rows of every override, the pause flag, how far the
transitions log has been written to the log stream, and the latest counts for ``status``.
Texts pass through the redactor before they are written: no secret is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from al_object_detection import durable_sqlite
from al_object_detection.daemon.redact import Redactor


def _v1_overrides_facts(db: Database) -> None:
    """The audit rows of overrides, and the daemon's facts (JSON by key).

    ``if_not_exists``: files written before the schema was versioned already have both.
    """
    db.table("overrides").create(
        {
            "id": int, "at": str, "who": str, "action": str, "round": int, "from_state": str,
            "to_state": str, "reason": str, "forced": int,
        },
        pk="id",
        not_null={"at", "who", "action", "reason", "forced"},
        defaults={"forced": 0},
        if_not_exists=True,
    )  # fmt: skip
    db.table("facts").create(
        {"key": str, "value": str}, pk="key", not_null={"value"}, if_not_exists=True
    )


_MIGRATIONS: list[durable_sqlite.Migration] = [_v1_overrides_facts]

PAUSED = "paused"
LOGGED_TRANSITIONS = "logged_transitions"
SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class Override:
    """One audited operator action."""

    at: str
    who: str
    action: str
    round: int | None
    from_state: str | None
    to_state: str | None
    reason: str
    forced: bool


class DaemonDB:
    """Typed access to the daemon's file."""

    def __init__(self, path: Path) -> None:
        self.path, self.redactor = path, Redactor()
        self._db = durable_sqlite.connect(path, check_same_thread=False)
        durable_sqlite.migrate(self._db, _MIGRATIONS, path=path)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def record(self, override: Override) -> None:
        """Append an audit row."""
        self._db.execute(
            "INSERT INTO overrides (at, who, action, round, from_state, to_state, reason, forced)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                override.at,
                override.who,
                override.action,
                override.round,
                override.from_state,
                override.to_state,
                self.redactor.text(override.reason),
                int(override.forced),
            ),
        )

    def overrides(self, limit: int = 20) -> list[Override]:
        """The latest audit rows, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM (SELECT * FROM overrides ORDER BY id DESC LIMIT ?) ORDER BY id", (limit,)
        ).fetchall()
        return [
            Override(
                r["at"], r["who"], r["action"], r["round"], r["from_state"], r["to_state"],
                r["reason"], bool(r["forced"]),
            )
            for r in rows
        ]  # fmt: skip

    def get(self, key: str) -> Any:
        """A stored fact (JSON), or None."""
        row = self._db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else None

    def put(self, key: str, value: Any) -> None:
        """Store (``None``: forget) a fact."""
        if value is None:
            self._db.execute("DELETE FROM facts WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)",
                (key, json.dumps(self.redactor.value(value))),
            )

    def paused(self) -> dict[str, Any] | None:
        """Who paused the daemon, when and why; None when it runs."""
        value = self.get(PAUSED)
        return value if isinstance(value, dict) else None
