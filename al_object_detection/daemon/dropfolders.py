"""The daemon's drop folders: watcher events, start-up and periodic rescans feed the ingestor.

The watcher runs in a process of its own (:mod:`~al_object_detection.ingest.watcher_process`).
A rescan catches what events missed (an inotify queue overflow, a network file system, a
folder deleted and made again, a watcher process that died).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import structlog

from al_object_detection.ingest.ingestor import Ingestor
from al_object_detection.ingest.watcher_process import WatcherProcess

log = structlog.get_logger("alod.ingest")


class DropFolders:
    """Watches the folders and queues scans; the scheduler's jobs do the work.

    ``wake`` asks for a drain now: called on the first file event while no job of this
    object runs (a running drain takes the new files itself), so a drop is taken at once
    instead of at the next tick.
    """

    def __init__(
        self,
        folders: tuple[Path, ...],
        ingestor: Ingestor,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.folders, self.ingestor, self.wake = folders, ingestor, wake
        self.watcher = WatcherProcess(
            list(folders), self._offered, self._queue_scan, on_overflow=self._overflowed
        )
        self._wake_asked = threading.Event()
        self._scans: set[tuple[Path, Path]] = set()
        self._lock = threading.Lock()
        self._missing: set[Path] = set()
        self.idle = threading.Event()  # no job of this object runs (shutdown waits for it)
        self.idle.set()
        self._stopped = threading.Event()

    def start(self) -> None:
        """Start watching (the first periodic run scans what arrived while the daemon was down)."""
        self.watcher.start()

    def stop(self) -> None:
        """Stop watching; a job that starts afterwards (queued before the stop) does nothing."""
        self._stopped.set()
        self.watcher.stop()

    def refresh(self) -> None:
        """Watch folders that (re)appeared and log the ones gone; cheap, called every second."""
        for folder in self.watcher.refresh():
            if folder in self._missing:
                self._missing.discard(folder)
            log.info("watching", folder=str(folder))
            self._queue_scan(folder, folder)
        for folder in self.folders:
            if not folder.is_dir() and folder not in self._missing:
                self._missing.add(folder)
                log.warning(
                    "watch_folder_missing", folder=str(folder), next="watched when it exists"
                )

    def rescan_all(self) -> None:
        """Queue a scan of every watched folder."""
        for folder in self.watcher.watched():
            self._queue_scan(folder, folder)

    def drain(self) -> None:
        """The frequent job: run queued scans, then judge and publish complete files."""
        if self._stopped.is_set():
            return
        self.idle.clear()
        self._wake_asked.clear()  # events from now on ask for the next drain
        try:
            with self._lock:
                scans, self._scans = self._scans, set()
            for folder, root in sorted(scans):
                self.ingestor.scan(folder, root)
            self.ingestor.drain()
        finally:
            self.idle.set()

    def periodic(self) -> None:
        """The slow job: a full rescan and image store recovery."""
        if self._stopped.is_set():
            return
        self.idle.clear()
        try:
            self.refresh()
            self.rescan_all()
            self.ingestor.recover()
        finally:
            self.idle.set()

    def _offered(self, path: Path, root: Path, complete: bool) -> None:
        self.ingestor.offer(path, root, complete)
        if self.idle.is_set() and not self._wake_asked.is_set():
            self._wake_asked.set()
            self.wake()

    def _overflowed(self) -> None:
        log.warning("inotify_overflow", next="full rescan")
        self.rescan_all()

    def _queue_scan(self, folder: Path, root: Path) -> None:
        with self._lock:
            self._scans.add((folder, root))
