"""The drop-folder watcher in a process of its own, sending what it sees in batches.

watchdog carries every inotify event through three threads as Python objects. In a burst of
thousands of dropped files that work, done in the daemon, held the daemon's GIL against the
drain that judges and publishes the same files. So :class:`WatcherProcess` runs a
:class:`~al_object_detection.ingest.watcher.FolderWatcher` in a child process (see
:mod:`~al_object_detection.ingest.children`) and hands its events, received in batches of
plain strings, to the same callbacks an in-process watcher would call.

The child forwards watchdog's log records (an inotify queue overflow is reported only as one:
it also calls ``on_overflow``), ignores SIGINT, and ends when its socket closes (the daemon
stopped or was killed). A child that died is started again by the next
:meth:`WatcherProcess.refresh`, which then reports every folder as newly watched: the daemon
rescans them for what no process watched meanwhile.

Messages, child to daemon: ``("events", [event, ...])``, each event one of
``("file", path, folder index, complete)``, ``("folder", path, folder index)`` or
``("log", logger, level, message)``, in the order they happened; and
``("watched", newly watched indexes, watched indexes)``: a child's first message, and its
answer to ``("refresh",)``. ``("stop",)`` ends it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import structlog

from al_object_detection.ingest.children import start_child

log = structlog.get_logger("alod.ingest")
OnFile = Callable[[Path, Path, bool], None]
OnFolder = Callable[[Path, Path], None]
_START_S = 120.0  # a fresh interpreter importing watchdog, on a loaded machine
_ANSWER_S = 30.0
_STOP_S = 5.0


class WatcherFailed(RuntimeError):
    """The watcher process did not start watching."""


class WatcherProcess:
    """A :class:`~al_object_detection.ingest.watcher.FolderWatcher` in a child process.

    ``on_file(path, folder, complete)`` and ``on_folder(path, folder)`` run on a reader
    thread, in the order the child saw the events; ``on_overflow()`` after an inotify
    overflow (events were lost). Refreshing and stopping may come from any thread.
    """

    def __init__(
        self,
        folders: list[Path],
        on_file: OnFile,
        on_folder: OnFolder,
        on_overflow: Callable[[], None] = lambda: None,
    ) -> None:
        self.folders = list(folders)
        self.on_file, self.on_folder, self.on_overflow = on_file, on_folder, on_overflow
        self._child: _Child | None = None
        self._watched: list[Path] = []
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> list[Path]:
        """Start the child and wait until it watches; returns the folders watched."""
        return self.refresh()

    def refresh(self) -> list[Path]:
        """Watch again every folder whose watch died (a dead child is started again);
        returns the folders newly watched."""
        with self._lock:
            if self._stopped:
                return []
            child = self._child
            if child is None or not child.alive():
                if child is not None:
                    log.warning("watcher_restarted", exit_code=child.stop(), next="rescan")
                self._child = child = _Child(self)
                timeout = _START_S
            else:
                child.send(("refresh",))
                timeout = _ANSWER_S
            answer = child.answer(timeout)
            if answer is None:
                code = child.stop()
                raise WatcherFailed(f"the folder watcher process did not answer (exit {code})")
            newly, watched = answer
            self._watched = [self.folders[i] for i in watched]
            return [self.folders[i] for i in newly]

    def watched(self) -> list[Path]:
        """The folders under watch, as of the last start or refresh."""
        return list(self._watched)

    def alive(self) -> bool:
        """Whether the child runs and its events are read."""
        child = self._child
        return child is not None and child.alive()

    @property
    def pid(self) -> int | None:
        """The child's process id, once started."""
        child = self._child
        return None if child is None else child.process.pid

    def stop(self) -> None:
        """Stop watching, for good: the child ends (killed if it does not) and is waited for."""
        with self._lock:
            self._stopped = True
            self._watched = []
            if self._child is not None:
                self._child.stop()

    # -- called by the reader thread ---------------------------------------------------------

    def _deliver(self, events: list[tuple[Any, ...]]) -> None:
        folders = self.folders
        for kind, *event in events:
            if kind == "file":
                path, index, complete = event
                self.on_file(Path(path), folders[index], complete)
            elif kind == "folder":
                path, index = event
                self.on_folder(Path(path), folders[index])
            elif kind == "log":
                name, level, text = event
                logging.getLogger(name).log(level, text)
                if "overflow" in text.lower():
                    self.on_overflow()


class _Child:
    """One watcher process, the thread reading its messages, and its answers."""

    def __init__(self, owner: WatcherProcess) -> None:
        folders = json.dumps([str(f) for f in owner.folders])
        self.process, self.conn = start_child(__name__, folders)
        self._answers: queue.Queue[tuple[list[int], list[int]] | None] = queue.Queue()
        self._reader = threading.Thread(
            target=self._read, args=(owner,), name="watcher-reader", daemon=True
        )
        self._reader.start()

    def alive(self) -> bool:
        return self.process.poll() is None and self._reader.is_alive()

    def send(self, message: tuple[Any, ...]) -> None:
        with contextlib.suppress(OSError):  # gone: the reader sees its socket's end
            self.conn.send(message)

    def answer(self, timeout: float) -> tuple[list[int], list[int]] | None:
        """The next ``watched`` answer; None if the child ended or did not answer in time."""
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> int | None:
        """Ask the child to end, kill it if it does not; its exit code."""
        self.send(("stop",))
        try:
            code = self.process.wait(timeout=_STOP_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(timeout=_STOP_S)  # the child's end closed: the reader ends
        self.conn.close()
        return code

    def _read(self, owner: WatcherProcess) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                self._answers.put(None)
                return
            if message[0] == "watched":
                self._answers.put((message[1], message[2]))
                continue
            try:
                owner._deliver(message[1])
            except Exception as error:  # the next events still count
                log.exception("watch_event_error", error=repr(error))


# -- the child process -------------------------------------------------------------------------


def serve_from_argv() -> None:
    """The child's entry: ``<socket fd> <JSON list of folders>`` on the command line."""
    from al_object_detection.ingest.watcher import FolderWatcher

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    folders = [Path(f) for f in json.loads(sys.argv[2])]
    index = {folder: i for i, folder in enumerate(folders)}
    outbox = _Outbox()
    handler = _Forward(outbox)
    logging.getLogger("watchdog").addHandler(handler)
    watcher = FolderWatcher(
        folders,
        lambda path, root, complete: outbox.put(("file", str(path), index[root], complete)),
        lambda path, root: outbox.put(("folder", str(path), index[root])),
    )

    def watched(newly: list[Path]) -> tuple[str, list[int], list[int]]:
        return ("watched", [index[f] for f in newly], [index[f] for f in watcher.watched()])

    try:
        conn.send(watched(watcher.start()))
        while True:
            ready = wait([conn, outbox.wake])
            outbox.send(conn)  # events before any answer that follows them
            if conn not in ready:
                continue
            command = conn.recv()
            if command[0] == "refresh":
                newly = watcher.refresh()
                outbox.send(conn)
                conn.send(watched(newly))
            elif command[0] == "stop":
                return
    except (EOFError, OSError):
        return  # the daemon is gone
    finally:
        watcher.stop()


class _Outbox:
    """Events the watcher threads queue for the main thread, which sends them in batches."""

    def __init__(self) -> None:
        self._events: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self.wake, self._wake_write = os.pipe()
        os.set_blocking(self.wake, False)
        os.set_blocking(self._wake_write, False)

    def put(self, event: tuple[Any, ...]) -> None:
        with self._lock:
            first = not self._events
            self._events.append(event)
        if first:
            with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
                os.write(self._wake_write, b"!")

    def send(self, conn: Connection) -> None:
        """Send what is queued, as one message."""
        with self._lock:
            events, self._events = self._events, []
            with contextlib.suppress(BlockingIOError):
                os.read(self.wake, 4096)
        if events:
            conn.send(("events", events))


class _Forward(logging.Handler):
    """Sends watchdog's warnings (and worse) to the daemon, which logs them."""

    def __init__(self, outbox: _Outbox) -> None:
        super().__init__(logging.WARNING)
        self.outbox = outbox

    def emit(self, record: logging.LogRecord) -> None:
        self.outbox.put(("log", record.name, record.levelno, record.getMessage()))
