"""One worker thread per core for chunked numpy work (numpy releases the GIL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from al_object_detection.strategies.arrays import Array

T = TypeVar("T")


def n_threads() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def workers() -> Iterator[Executor]:
    """A thread per core, BLAS held to one thread each so they do not oversubscribe.

    The BLAS limit is process-wide while the block runs.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads()) as pool:
        yield pool


def map_chunks(fn: Callable[[slice], T], n: int, chunk: int) -> list[T]:
    """``[fn(slice) for each chunk of 0..n-1]``, run on all cores."""
    with ThreadPoolExecutor(n_threads()) as pool:
        return list(pool.map(fn, (slice(s, s + chunk) for s in range(0, n, chunk))))


def map_rows(fn: Callable[[Array], Array], rows: Array, out: Array, chunk: int) -> Array:
    """``out[part] = fn(rows[part])`` for row chunks, run on all cores; returns ``out``."""

    def run(part: slice) -> None:
        out[part] = fn(rows[part])

    map_chunks(run, len(rows), chunk)
    return out
