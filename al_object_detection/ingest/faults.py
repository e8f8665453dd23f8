"""Fault points: named places in ingestion where a kill test stops this process dead.

Inactive unless ``ALOD_FAULT_POINT`` names a point. Then the ``ALOD_FAULT_AFTER``-th time
(1 by default) the point is reached, the file ``ALOD_FAULT_MARKER`` (if set) is created and
``ALOD_FAULT_ACTION`` happens: ``stop`` (the default) stops the process that reached it with
SIGSTOP, so a test can SIGKILL it exactly there; ``hang`` blocks the calling thread for good,
as a check stuck in a system call would.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

#: After an image is committed to the image store, before its drop file is removed.
STORE_COMMITTED = "store.committed"
#: After the drop file is removed, before the batch reaches the pool.
STORE_MOVED = "store.moved"
#: After a batch of samples is inserted into the pool.
POOL_ADDED = "pool.added"
#: In a checker process, before a dropped file is opened.
CHECK_STARTED = "check.started"
POINTS = (STORE_COMMITTED, STORE_MOVED, POOL_ADDED, CHECK_STARTED)

_POINT = os.environ.get("ALOD_FAULT_POINT", "")
if _POINT and _POINT not in POINTS:
    raise ValueError(f"ALOD_FAULT_POINT={_POINT!r} is none of {', '.join(POINTS)}")
_reached = 0
_lock = threading.Lock()


def reach(point: str) -> None:
    """Mark ``point`` as reached; acts only when it is the configured fault point."""
    if point != _POINT:
        return
    global _reached
    with _lock:
        _reached += 1
        if _reached != int(os.environ.get("ALOD_FAULT_AFTER", "1")):
            return
    marker = os.environ.get("ALOD_FAULT_MARKER")
    if marker:
        Path(marker).write_text(f"{point} {os.getpid()}\n")
    if os.environ.get("ALOD_FAULT_ACTION", "stop") == "hang":
        threading.Event().wait()
    # to this thread: a SIGSTOP sent to the process is taken by its main thread, and the
    # thread that got here would run on past the point until that one stops them all
    signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)
