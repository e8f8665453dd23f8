"""Prometheus metrics as a textfile (node_exporter's textfile collector reads it).

The file is replaced atomically (written beside it, then renamed), so a scrape never sees
half of it. Transition counts come from the round store's log, so they survive restarts;
step durations and ingest counts are this process's (a restart resets them, as counters may).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from al_object_detection.states import machine as m
from al_object_detection.states.store import Round


@dataclass
class StepTimes:
    """Seconds spent in each state's steps, summed, and how many steps."""

    seconds: dict[str, float] = field(default_factory=dict)
    count: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, state: str, seconds: float) -> None:
        """Add one step's duration."""
        with self._lock:
            self.seconds[state] = self.seconds.get(state, 0.0) + seconds
            self.count[state] += 1

    def totals(self) -> list[tuple[str, float, int]]:
        """(state, seconds, steps), by state."""
        with self._lock:
            return [
                (state, self.seconds[state], self.count[state]) for state in sorted(self.seconds)
            ]


@dataclass(frozen=True)
class Snapshot:
    """What one textfile shows."""

    project: str
    current: Round | None
    state_seconds: float
    transitions: Mapping[str, int]
    steps: StepTimes
    accepted: int
    published: int
    rejected: Mapping[str, int]
    samples: Mapping[str, int]
    quarantined: int
    paused: bool
    worker_running: bool


def render(s: Snapshot) -> str:
    """The textfile's content."""
    p = {"project": s.project}
    lines: list[str] = []
    current = s.current
    _gauge(
        lines,
        "alod_round",
        "Index of the current round (-1: none yet).",
        [(p, current.round if current else -1)],
    )
    _gauge(
        lines,
        "alod_round_state",
        "1 for the state the current round is in.",
        [
            ({**p, "state": state}, int(current is not None and current.state == state))
            for state in m.STATES
        ],
    )
    _gauge(
        lines,
        "alod_round_attempt",
        "Attempt of the current round.",
        [(p, current.attempt if current else 0)],
    )
    _gauge(
        lines,
        "alod_round_state_seconds",
        "Seconds the current round has been in its state.",
        [(p, round(s.state_seconds, 3))],
    )
    _counter(
        lines,
        "alod_transitions_total",
        "Transitions written, by target state.",
        [({**p, "to": t}, n) for t, n in sorted(s.transitions.items())],
    )
    lines.append("# HELP alod_step_duration_seconds Duration of engine steps, by state.")
    lines.append("# TYPE alod_step_duration_seconds summary")
    for state, total, count in s.steps.totals():
        labels = _labels({**p, "state": state})
        lines.append(f"alod_step_duration_seconds_sum{labels} {total:.6f}")
        lines.append(f"alod_step_duration_seconds_count{labels} {count}")
    _counter(
        lines,
        "alod_ingest_accepted_total",
        "Dropped files accepted into the image store.",
        [(p, s.accepted)],
    )
    _counter(
        lines,
        "alod_ingest_published_total",
        "Accepted images added to the pool.",
        [(p, s.published)],
    )
    _counter(
        lines,
        "alod_ingest_rejected_total",
        "Dropped files quarantined, by reason.",
        [({**p, "reason": r}, n) for r, n in sorted(s.rejected.items())],
    )
    _gauge(
        lines,
        "alod_samples",
        "Samples in the dataset, by split.",
        [({**p, "split": k}, n) for k, n in sorted(s.samples.items())],
    )
    _gauge(lines, "alod_quarantined_files", "Files in the quarantine folder.", [(p, s.quarantined)])
    _gauge(
        lines,
        "alod_daemon_paused",
        "1 while an operator has paused the daemon.",
        [(p, int(s.paused))],
    )
    _gauge(
        lines,
        "alod_worker_running",
        "1 while a worker process runs a long step.",
        [(p, int(s.worker_running))],
    )
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _gauge(
    lines: list[str], name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> None:
    _family(lines, name, "gauge", help_text, samples)


def _counter(
    lines: list[str], name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> None:
    _family(lines, name, "counter", help_text, samples)


def _family(
    lines: list[str],
    name: str,
    kind: str,
    help_text: str,
    samples: Iterable[tuple[dict[str, str], float]],
) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    lines.extend(f"{name}{_labels(labels)} {value}" for labels, value in samples)


def _labels(labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
