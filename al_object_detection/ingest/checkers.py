"""The threads that judge dropped files, and a close that never waits for them.

A check can block in a system call no signal interrupts (a hung network file system). The
threads are daemon threads, so such a check cannot hold up the process's exit, and
:meth:`CheckerThreads.close` fails every unfinished check at once, so nobody waits on one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any, TypeVar

T = TypeVar("T")
_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class CheckersClosed(Exception):
    """The checker threads were closed before this check finished."""


class CheckerThreads:
    """A fixed number of daemon threads running submitted calls in order."""

    def __init__(self, workers: int, name: str = "ingest-check") -> None:
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._unfinished: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``call(*args)`` on a checker thread; its future."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise CheckersClosed("the checker threads are closed")
            self._unfinished.add(future)
        future.add_done_callback(self._forget)
        self._tasks.put((future, call, args))
        return future

    def close(self) -> None:
        """Fail every unfinished check with :class:`CheckersClosed`; the threads end when free."""
        with self._lock:
            self._closed = True
            unfinished, self._unfinished = self._unfinished, set()
        for future in unfinished:
            _settle(future, exception=CheckersClosed("closed before the check finished"))
        for _ in self._threads:
            self._tasks.put(None)

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._unfinished.discard(future)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call, args = task
            try:
                if not future.set_running_or_notify_cancel():
                    continue
            except RuntimeError:  # close() failed it before it started
                continue
            try:
                result = call(*args)
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits on it
                _settle(future, exception=error)
            else:
                _settle(future, result=result)


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
