"""Files seen in the drop folders, held until they are complete.

A file is complete when a writer closed it (or it was renamed into the folder), when it was
last modified ``settle_s`` ago or more, or when its size and modification time stayed the same
for ``settle_s``. A closed file costs no ``stat`` here: the checks look at it anyway (they
defer one that is gone or changes while it is read, and give content that looks cut short a
grace period), and a write after that ends in a close of its own, which offers it again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Seen:
    root: Path
    signature: tuple[int, int] | None
    changed_at: float
    closed: bool
    not_before: float = 0.0


class Candidates:
    """A thread-safe set of paths waiting to be complete."""

    def __init__(self, settle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_s, self._clock = settle_s, clock
        self._seen: dict[Path, _Seen] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def offer(self, path: Path, root: Path, *, closed: bool = False) -> None:
        """Note that ``path`` (under ``root``) appeared or changed; ``closed``: a writer is done.

        A file last modified more than ``settle_s`` ago (found by a rescan) is complete at once.
        """
        now = self._clock()
        if closed:
            with self._lock:
                seen = self._seen.get(path)
                if seen is None:
                    self._seen[path] = _Seen(root, None, now, closed=True)
                else:
                    seen.closed = True
            return
        signature = _signature(path)
        if signature is not None and time.time() - signature[1] / 1e9 >= self.settle_s:
            closed = True
        with self._lock:
            seen = self._seen.get(path)
            if seen is None or seen.signature != signature:
                self._seen[path] = _Seen(root, signature, now, closed)
            elif closed:
                seen.closed = True

    def defer(self, path: Path, root: Path, seconds: float) -> None:
        """Look at ``path`` again in ``seconds`` at the earliest."""
        now = self._clock()
        with self._lock:
            self._seen[path] = _Seen(root, _signature(path), now, False, now + seconds)

    def take_ready(self) -> list[tuple[Path, Path]]:
        """Remove and return the (path, root) pairs that are complete; forget vanished ones."""
        now = self._clock()
        with self._lock:
            items = list(self._seen.items())
        ready = []
        for path, seen in items:
            if now < seen.not_before:
                continue
            if seen.closed:
                with self._lock:
                    if self._seen.get(path) is seen:
                        del self._seen[path]
                        ready.append((path, seen.root))
                continue
            signature = _signature(path)
            with self._lock:
                if self._seen.get(path) is not seen:
                    continue
                if signature is None:
                    del self._seen[path]
                elif signature != seen.signature:
                    self._seen[path] = _Seen(seen.root, signature, now, False)
                elif now - seen.changed_at >= self.settle_s:
                    del self._seen[path]
                    ready.append((path, seen.root))
        return ready


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns
