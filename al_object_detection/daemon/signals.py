"""Stop requests: the handlers only set a flag; a wake-up pipe cuts the main loop's sleep short."""

from __future__ import annotations

import contextlib
import os
import select
import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopFlags:
    """What the signal handlers record, and a sleep that a signal interrupts."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    @property
    def requested(self) -> bool:
        """Whether a stop signal arrived."""
        return self.received is not None

    def install(self) -> None:
        """Handle SIGTERM and SIGINT (main thread only)."""
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for number in STOP_SIGNALS:
            signal.signal(number, self._handle)

    def sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a signal ends it early."""
        readable, _, _ = select.select([self._read], [], [], max(0.0, seconds))
        if readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._read, 512)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.received = number
