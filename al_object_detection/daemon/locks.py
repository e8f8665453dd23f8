"""File locks shared by processes: one daemon per project, and the pool's gate.

A sample added to the pool between a round's ``predicting`` and its ``sampling`` would have
no predictions when the sampler needs them, so new samples wait while a round is in that
window. The lock makes "the round may move into predicting" and "samples may be added now"
exclusive, across threads and processes.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore


class InstanceLock:
    """One daemon per project: an exclusive lock on a file that holds the owner's pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, wait_s: float, *, stop: Callable[[], bool] = lambda: False) -> bool:
        """Take the lock, waiting up to ``wait_s`` (a killed daemon's child may still hold it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline or stop():
                    os.close(fd)
                    return False
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return True

    def release(self) -> None:
        """Let the next daemon start."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def lock_holder(path: Path) -> int | None:
    """The pid of the daemon holding ``path``, or None when none does."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.read(fd, 32).decode(errors="replace").strip()
        return int(text) if text.isdigit() else 0
    finally:
        os.close(fd)
    return None


@contextmanager
def pool_lock(lock_file: Path) -> Iterator[None]:
    """The pool's lock, exclusive against every other holder (threads included)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class PoolGate:
    """Holds the pool lock; says whether samples may join the pool now."""

    def __init__(self, lock_file: Path, rounds: RoundStore) -> None:
        self.lock_file, self.rounds = lock_file, rounds

    @contextmanager
    def publishing(self) -> Iterator[bool]:
        """The lock, and whether the current round lets the pool grow."""
        with pool_lock(self.lock_file):
            current = self.rounds.current()
            closed = current is not None and (
                current.state in m.POOL_CLOSED
                or (current.state == m.FAILED and current.failed_in == m.SAMPLING)
            )
            yield not closed
