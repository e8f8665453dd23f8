"""What the running daemon shows outside: the metrics textfile, the snapshot, systemd's STATUS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from al_object_detection.daemon.daemondb import SNAPSHOT, DaemonDB
from al_object_detection.daemon.driver import Driver
from al_object_detection.daemon.metrics import Snapshot, StepTimes, render, write_textfile
from al_object_detection.daemon.notify import Notifier
from al_object_detection.daemon.settings import DaemonConfig
from al_object_detection.daemon.workerproc import WorkerProcess
from al_object_detection.ingest.ingestor import Ingestor
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.states.store import RoundStore


@dataclass
class Reporter:
    """Reads the daemon's parts; writes what ``status``, Prometheus and systemd show."""

    config: DaemonConfig
    rounds: RoundStore
    daemon_db: DaemonDB
    store: Any
    ingestor: Ingestor
    worker: WorkerProcess
    driver: Driver
    steps: StepTimes
    notifier: Notifier

    def publish(self) -> None:
        """Refresh the metrics textfile, the status snapshot and systemd's status line."""
        counts = self.store.counts()
        current = self.rounds.current()
        since = datetime.fromisoformat(current.state_since) if current else None
        stats = self.ingestor.stats
        snapshot = Snapshot(
            project=self.config.project.name,
            current=current,
            state_seconds=(datetime.now(UTC) - since).total_seconds() if since else 0.0,
            transitions=self._transition_counts(),
            steps=self.steps,
            accepted=stats.accepted,
            published=stats.published,
            rejected=dict(stats.rejected),
            samples=counts,
            quarantined=sum(Quarantine(self.config.daemon.quarantine).reasons().values()),
            paused=self.daemon_db.paused() is not None,
            worker_running=self.worker.running,
        )
        write_textfile(self.config.daemon.metrics_file, render(snapshot))
        ingest = {
            "accepted": stats.accepted,
            "published": stats.published,
            "rejected": dict(stats.rejected),
            "pending": self.ingestor.pending(),
        }
        at = datetime.now(UTC).isoformat(timespec="seconds")
        self.daemon_db.put(
            SNAPSHOT,
            {"at": at, "counts": counts, "ingest": ingest, "last_error": self.driver.last_error},
        )
        self.notifier.status(self.status_line(counts))

    def status_line(self, counts: dict[str, int] | None = None) -> str:
        """One line: the round, the pool, paused or not."""
        current = self.rounds.current()
        parts = [
            "no round yet"
            if current is None
            else f"round {current.round} {current.state} (attempt {current.attempt})"
        ]
        if counts:
            parts.append(f"pool {counts.get('pool', 0)}, labeled {counts.get('labeled', 0)}")
        if self.daemon_db.paused() is not None:
            parts.append("PAUSED")
        return "; ".join(parts)

    def _transition_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rounds.transitions():
            counts[row.to_state] = counts.get(row.to_state, 0) + 1
        return counts
