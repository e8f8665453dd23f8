"""Watchdog on the drop folders: file events become offers; a lost folder is watched again."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from al_object_detection.ingest.rules import ignored_name

if sys.platform.startswith("linux"):
    # watchdog's own inotify observer pairs moves in O(queued events) per moved-in file
    from al_object_detection.ingest.inotify_events import CookieIndexedObserver as Observer
else:
    from watchdog.observers import Observer

#: (path, watched folder, complete?) for a file; (folder, watched folder) for a new folder.
OnFile = Callable[[Path, Path, bool], None]
OnFolder = Callable[[Path, Path], None]
_FILE_EVENTS = (FileCreatedEvent, FileClosedEvent, FileMovedEvent)
#: What inotify reports: no opens, reads, writes or deletes (the candidates' stat sees the
#: writes), so reading or moving a dropped file does not come back as more events. A deleted
#: drop folder shows as a dead watch (see :meth:`FolderWatcher.refresh`).
_WANTED = [*_FILE_EVENTS, DirCreatedEvent, DirMovedEvent]


def ignored(path: Path, root: Path) -> bool:
    """A dot file, a partial download, or anything inside a dot folder."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return True
    return not parts or any(ignored_name(part) for part in parts)


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, on_file: OnFile, on_folder: OnFolder) -> None:
        self.root, self.on_file, self.on_folder = root, on_file, on_folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        moved = isinstance(event, FileMovedEvent | DirMovedEvent)
        target = Path(str(event.dest_path if moved else event.src_path))
        if ignored(target, self.root):
            return
        if isinstance(event, DirCreatedEvent | DirMovedEvent):
            self.on_folder(target, self.root)
        elif isinstance(event, _FILE_EVENTS):
            self.on_file(target, self.root, moved or isinstance(event, FileClosedEvent))


class FolderWatcher:
    """One observer for all drop folders; refreshing and stopping may come from any thread."""

    def __init__(self, folders: list[Path], on_file: OnFile, on_folder: OnFolder) -> None:
        self.folders = folders
        self._handlers = {f: _Handler(f, on_file, on_folder) for f in folders}
        self._watches: dict[Path, Any] = {}
        self._observer = Observer()
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> list[Path]:
        """Start watching; returns the folders watched (the others once they exist)."""
        self._observer.start()
        return self.refresh()

    def refresh(self) -> list[Path]:
        """Watch again every folder whose watch died; returns the folders newly watched."""
        with self._lock:
            return [] if self._stopped else self._refresh()

    def _refresh(self) -> list[Path]:
        live = {e.watch for e in self._observer.emitters if e.is_alive()}
        added = []
        for folder in self.folders:
            watch = self._watches.get(folder)
            if watch is not None and watch in live and folder.is_dir():
                continue
            if watch is not None:
                self._observer.unschedule(watch)
                del self._watches[folder]
            if folder.is_dir():
                handler = self._handlers[folder]
                self._watches[folder] = self._observer.schedule(
                    handler, str(folder), recursive=True, event_filter=_WANTED
                )
                added.append(folder)
        return added

    def watched(self) -> list[Path]:
        """The folders under watch now."""
        with self._lock:
            return list(self._watches)

    def alive(self) -> bool:
        """Whether the observer thread runs."""
        return bool(self._observer.is_alive())

    def stop(self) -> None:
        """Stop watching (for good) and wait for the observer thread."""
        with self._lock:
            self._stopped = True
            self._watches.clear()
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(timeout=5)
