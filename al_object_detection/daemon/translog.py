"""Every stored transition becomes one canonical ``transition`` line in the log stream.

The round store's transitions log is read from where the last line left off (a cursor kept
in the daemon's file), so a transition fired by the worker, the daemon or an operator's
override appears exactly once in order, and a crash between commit and log line only
means the line is written at the next start (at least once, never lost).
"""

from __future__ import annotations

from typing import Any

from al_object_detection.daemon.daemondb import LOGGED_TRANSITIONS, DaemonDB
from al_object_detection.daemon.logstream import LogContext
from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore


class TransitionLog:
    """Writes the transitions not yet in the log stream."""

    def __init__(self, rounds: RoundStore, daemon: DaemonDB, log: Any, context: LogContext) -> None:
        self.rounds, self.daemon, self.log, self.context = rounds, daemon, log, context

    def catch_up(self) -> int:
        """Log the new transitions and bind the current round; returns how many were logged."""
        done = int(self.daemon.get(LOGGED_TRANSITIONS) or 0)
        rows = self.rounds.transitions()
        if done > len(rows):  # another state file than the one the cursor counted
            done = 0
        attempts: dict[int, int] = {}
        for index, row in enumerate(rows):
            # a round's attempt starts at 1 and grows each time it leaves ``failed``
            attempts[row.round] = attempts.get(row.round, 1) + (row.from_state == m.FAILED)
            if index < done:
                continue
            self.context.bind(round=row.round, state=row.to_state, attempt=attempts[row.round])
            self.log.info(
                "transition",
                round=row.round,
                actor=row.actor,
                reason=row.reason,
                at=row.at,
                **{"from": row.from_state, "to": row.to_state},
            )
        if rows[done:]:
            self.daemon.put(LOGGED_TRANSITIONS, len(rows))
        current = self.rounds.current()
        if current is not None:
            self.context.bind(round=current.round, state=current.state, attempt=current.attempt)
        return len(rows) - done
