"""How long a round's annotation took, from what the state file and the server recorded.

Start: when the round's last annotation batch was submitted (its intent). End: the newest
server time stamp on the returned boxes where the server records one (CVAT's job update time,
``annotated_at``), else when the engine saw the batch finished (the ``importing`` transition;
polled, so late by up to one poll interval). For the oracle this is its simulated delay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore

SERVER, POLLED = "server time stamps", "submit to done, as polled"


@dataclass(frozen=True)
class AnnotationTime:
    """Seconds from submission to the last label, and where the end time came from."""

    seconds: float
    source: str


def annotation_time(
    rounds: RoundStore, round_index: int, stamps: Iterable[str | None] = ()
) -> AnnotationTime | None:
    """The round's annotation time, or None when it was never submitted and finished."""
    submitted = [i["created_at"] for i in rounds.intents(round_index) if i["kind"] == "annotate"]
    finished = [
        t.at for t in rounds.transitions(round_index)
        if t.from_state == m.ANNOTATING and t.to_state == m.IMPORTING
    ]  # fmt: skip
    if not submitted or not finished:
        return None
    start = _parse(submitted[-1])
    server = [s for s in map(_stamp, stamps) if s is not None and s > start]
    if server:
        return AnnotationTime((max(server) - start).total_seconds(), SERVER)
    return AnnotationTime(max(0.0, (_parse(finished[-1]) - start).total_seconds()), POLLED)


def _parse(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _stamp(text: str | None) -> datetime | None:
    """A server time stamp, or None when absent or unreadable (it is only a refinement)."""
    try:
        return _parse(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
