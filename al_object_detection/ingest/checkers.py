"""The processes that judge dropped files, and a close that never waits for them.

Checks read, decode and hash every file: work that, run in threads, would hold the daemon's
GIL against the watcher and the pool writes. So they run in worker processes, each taking
one task at a time over its own socket, fed by one dispatcher thread. A worker is a fresh
interpreter started on this module (not ``multiprocessing``'s spawn, which would import the
caller's main script again). A check can block in a system call no signal interrupts (a hung
network file system): :meth:`CheckerProcesses.close` fails every unfinished check at once and
kills the workers without waiting for them. A worker that dies mid-task (a decoder that
crashes) fails that task alone, with :class:`CheckerDied`, and is replaced. Workers ignore
SIGINT (a terminal's Ctrl-C reaches the whole process group; the daemon decides when they
end), and end by themselves when the daemon is gone (their socket closes).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from al_object_detection.ingest.children import start_child

T = TypeVar("T")
_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class CheckersClosed(Exception):
    """The checkers were closed before this check finished."""


class CheckerDied(Exception):
    """The worker process running this check exited before answering."""


def default_workers() -> int:
    """One per core, 1 to 4: on 2 cores, 2 workers kept up with the daemon's own thread."""
    return max(1, min(4, (os.cpu_count() or 2)))


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    task: _Task | None = None


class CheckerProcesses:
    """A fixed number of worker processes running submitted calls, oldest first.

    Calls and their arguments travel by pickle: module-level functions and plain data.
    ``preload``: modules each worker imports as it starts, before the first call needs them.
    """

    def __init__(
        self, workers: int, name: str = "ingest-check", preload: tuple[str, ...] = ()
    ) -> None:
        if workers < 1:
            raise ValueError(f"checker workers must be >= 1, got {workers}")
        self._size, self._name, self._preload = workers, name, preload
        self._pending: deque[_Task] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._dispatcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the workers now (else at the first submit): they take a moment to import."""
        with self._lock:
            if self._closed:
                raise CheckersClosed("the checkers are closed")
            if self._dispatcher is not None:
                return
            self._workers = [self._spawn(i) for i in range(self._size)]
            self._dispatcher = threading.Thread(
                target=self._dispatch, name=f"{self._name}-dispatch", daemon=True
            )
            self._dispatcher.start()

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``call(*args)`` in a worker process; its future."""
        self.start()
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise CheckersClosed("the checkers are closed")
            self._pending.append((future, call, args))
            self._wake()
        return future

    def close(self) -> None:
        """Fail every unfinished check with :class:`CheckersClosed`; kill the workers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            unfinished = [task[0] for task in self._pending]
            unfinished += [w.task[0] for w in self._workers if w.task is not None]
            self._pending.clear()
            workers, self._workers = self._workers, []
            if self._dispatcher is None:
                self._close_wake_pipe()
            else:
                self._wake()  # the dispatcher ends and closes the pipe
        for future in unfinished:
            _settle(future, exception=CheckersClosed("closed before the check finished"))
        for worker in workers:
            worker.process.kill()  # not joined: a worker stuck in the kernel ends when it can
            worker.conn.close()

    # -- the dispatcher thread ---------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    self._close_wake_pipe()
                    return
                self._hand_out()
                watched: list[Any] = [self._wake_read, *(w.conn for w in self._workers)]
            try:
                ready = set(wait(watched))
            except (OSError, ValueError):  # closed meanwhile
                continue
            if self._wake_read in ready:
                os.read(self._wake_read, 4096)
            with self._lock:
                if not self._closed:
                    self._collect(ready)

    def _hand_out(self) -> None:
        for worker in self._workers:
            while worker.task is None and self._pending:
                task = self._pending.popleft()
                if task[0].done():
                    continue
                worker.task = task
                with contextlib.suppress(OSError):  # died: its socket's end says so next
                    worker.conn.send((task[1], task[2]))

    def _collect(self, ready: set[Any]) -> None:
        for index, worker in enumerate(self._workers):
            if worker.conn not in ready:
                continue
            try:
                ok, value = worker.conn.recv()
            except (EOFError, OSError):  # the worker is gone
                self._replace(index)
                continue
            if worker.task is not None:
                future, worker.task = worker.task[0], None
                _settle(future, **({"result": value} if ok else {"exception": value}))

    def _replace(self, index: int) -> None:
        worker = self._workers[index]
        worker.conn.close()
        try:
            code: int | None = worker.process.wait(timeout=5)  # exiting: its socket closed
        except subprocess.TimeoutExpired:
            worker.process.kill()
            code = None
        if worker.task is not None:
            died = CheckerDied(f"checker process exited ({code}) during the check")
            _settle(worker.task[0], exception=died)
        self._workers[index] = self._spawn(index)

    def _spawn(self, index: int) -> _Worker:
        return _Worker(*start_child(__name__, *self._preload))

    def _wake(self) -> None:
        """Wake the dispatcher (called holding the lock, so the pipe is open)."""
        with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
            os.write(self._wake_write, b"!")

    def _close_wake_pipe(self) -> None:
        os.close(self._wake_read)
        os.close(self._wake_write)


def serve_from_argv() -> None:
    """A worker's entry: ``<socket fd> <module to preload>...`` on the command line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in sys.argv[2:]:
        importlib.import_module(module)
    _serve(Connection(int(sys.argv[1])))


def _serve(conn: Connection) -> None:
    """Run each call received, send back (ok, result or exception); end at EOF."""
    while True:
        try:
            call, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, call(*args))
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits on it
            reply = (False, error)
        try:
            conn.send(reply)
        except OSError:
            return
        except Exception as error:  # noqa: BLE001 - a result or exception that won't pickle
            conn.send((False, RuntimeError(f"unpicklable check outcome: {error!r}")))


def _settle(
    future: Future[Any], *, result: Any = None, exception: BaseException | None = None
) -> None:
    """Finish ``future`` unless something (a close) finished it first."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass
