"""A real inotify queue overflow: the watching process is stopped while events pile up."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_MOST_FILES = 1 << 17


@contextmanager
def overflowed(pid: int, noise: Path) -> Iterator[None]:
    """Stop ``pid``, then make more events (files in the watched folder ``noise``) than the
    kernel queues; what the body writes is lost. ``pid`` goes on when the body ends."""
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > _MOST_FILES:
        pytest.skip(f"max_queued_events is {limit}: too many files to make for an overflow")
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: all(state(pid, t) == "T" for t in os.listdir(f"/proc/{pid}/task")))
        for i in range(limit + 16):  # at least one event each
            (noise / f"{i}.txt").write_bytes(b"")
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def state(pid: int, task: int | str | None = None) -> str:
    """The process's (or one of its threads') state letter, as ``ps`` shows it."""
    where = f"/proc/{pid}" if task is None else f"/proc/{pid}/task/{task}"
    return Path(where, "stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_until(done: Callable[[], bool], timeout_s: float = 60) -> None:
    """Poll ``done`` until it holds (the bound is never reached when things work)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)
