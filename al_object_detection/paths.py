"""Every file of a project, derived from its state file: the one place that names them.

The daemon's project keeps ``<state_dir>/<name>.sqlite``; a library run keeps
``./cache/<dataset>_al_state.sqlite``. Locks, the daemon's own file, the drop folders'
defaults, the metrics and log files, the detector's runs and the reports all sit beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_state_dir() -> Path:
    """Where the ML stack keeps its offline files when no project names a state dir."""
    configured = os.environ.get("ALOD_STATE_DIR")
    return Path(configured or Path.home() / ".local" / "state" / "al_object_detection")


@dataclass(frozen=True)
class ProjectPaths:
    """The state file, the folder the rounds export into, and every file derived from them."""

    state_file: Path
    work_dir: Path

    @classmethod
    def for_project(cls, state_dir: Path, name: str) -> ProjectPaths:
        """An ``alod.toml`` project's: ``<state_dir>/<name>.sqlite``, exports in the state dir."""
        return cls(state_dir / f"{name}.sqlite", state_dir)

    @classmethod
    def for_dataset(
        cls, dataset: str, state_path: Path | str | None = None, work_dir: Path | str | None = None
    ) -> ProjectPaths:
        """A library run's: ``./cache/<dataset>_al_state.sqlite``, ``<dataset>_work`` beside it."""
        state_file = Path(state_path or Path("cache") / f"{dataset}_al_state.sqlite")
        work = Path(work_dir or state_file.parent / f"{dataset}_work").resolve()
        return cls(state_file, work)

    @property
    def state_dir(self) -> Path:
        """The folder of the state file; the daemon's files default to it."""
        return self.state_file.parent

    @property
    def instance_lock(self) -> Path:
        """Held by the one daemon of the project (its pid inside)."""
        return self._beside(".lock")

    @property
    def pool_lock(self) -> Path:
        """The pool's gate between ingestion and a round's predicting/sampling window."""
        return self._beside(".pool.lock")

    @property
    def daemon_db(self) -> Path:
        """The daemon's own SQLite file: overrides, pause, snapshots."""
        return self._beside(".daemon.sqlite")

    @property
    def metrics_file(self) -> Path:
        """The Prometheus text file, by default."""
        return self._beside(".prom")

    @property
    def log_file(self) -> Path:
        """The JSON log copy, by default."""
        return self._beside(".log.jsonl")

    @property
    def quarantine(self) -> Path:
        """Rejected drops and their reasons, by default."""
        return self.state_dir / "quarantine"

    @property
    def image_store(self) -> Path:
        """Accepted images, the daemon's own bytes, by default."""
        return self.state_dir / "images"

    @property
    def detector_dir(self) -> Path:
        """The detector's training runs (the daemon's)."""
        return self.state_dir / "detector"

    @property
    def reports_dir(self) -> Path:
        """Round records and their HTML reports."""
        return self.state_dir / "reports"

    def _beside(self, suffix: str) -> Path:
        return self.state_file.with_name(self.state_file.stem + suffix)
