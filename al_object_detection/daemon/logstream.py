"""One log stream: structlog JSON lines, every line with the same bound context.

Lines go to stdout (journald reads them) and to a size-rotated copy that ``alod logs``
reads. Third-party loggers (FiftyOne, ultralytics, apscheduler, watchdog) lose their own
handlers and go through the same processors, so they get the context and the redaction too.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

import structlog

from al_object_detection.daemon.prettylog import render
from al_object_detection.daemon.redact import redactor

_ROTATE_BYTES = 10 * 1024 * 1024
#: Chatty libraries: the scheduler's per-run lines (its misses and errors get our own lines)
#: and the state machine's callbacks.
_QUIET = {"apscheduler": logging.ERROR, "transitions": logging.WARNING}
_KEEP_FILES = 3


class LogContext:
    """The context every line carries (project, round, state, attempt), shared by all threads."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def bind(self, **values: Any) -> None:
        """Set (or, with None, drop) context values."""
        with self._lock:
            for key, value in values.items():
                if value is None:
                    self._values.pop(key, None)
                else:
                    self._values[key] = value

    def snapshot(self) -> dict[str, Any]:
        """The current values."""
        with self._lock:
            return dict(self._values)


class Sink:
    """Writes whole lines to a file descriptor and to an optional size-rotated file."""

    def __init__(self, fd: int = 1, copy_to: Path | None = None) -> None:
        self.fd, self.copy_to = fd, copy_to
        self._lock = threading.Lock()
        self._file: Any = None

    def write_line(self, line: str) -> None:
        """Write one line (a newline is added) in one piece."""
        data = (line.rstrip("\n") + "\n").encode("utf-8", "replace")
        with self._lock:
            _write_all(self.fd, data)
            if self.copy_to is not None:
                self._write_copy(data)

    def close(self) -> None:
        """Close the copy."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _write_copy(self, data: bytes) -> None:
        assert self.copy_to is not None
        try:
            if self._file is None:
                self.copy_to.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.copy_to.open("ab")
            self._file.write(data)
            self._file.flush()
            if self._file.tell() > _ROTATE_BYTES:
                self._file.close()
                self._file = None
                _rotate(self.copy_to)
        except OSError:
            self._file = None  # the copy is best effort; stdout keeps every line


class _SinkHandler(logging.Handler):
    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write_line(self.format(record))
        except (OSError, ValueError, TypeError):  # a handler never raises into the caller
            self.handleError(record)


def configure(
    sink: Sink,
    *,
    level: str = "info",
    context: LogContext | None = None,
    secrets: Iterable[str] = (),
    pretty: bool = False,
) -> None:
    """Route structlog and the standard library's logging through one chain into ``sink``."""
    shared = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _merge(context or LogContext()),
    ]
    final = _pretty if pretty else structlog.processors.JSONRenderer(default=str)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redactor(secrets),
            final,
        ],
    )
    handler = _SinkHandler(sink)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    logging.captureWarnings(True)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    adopt_third_party()


def adopt_third_party() -> None:
    """Take the handlers off every other logger so its records reach the root's chain."""
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger.handlers:
            for old in list(logger.handlers):
                logger.removeHandler(old)
            logger.propagate = True


def engine_log(logger: Any) -> Callable[[str], None]:
    """The engine's ``log`` callable: each message becomes an event of ``logger``."""

    def log(message: str) -> None:
        logger.info(message.strip())

    return log


def _merge(context: LogContext) -> Any:
    def merge(
        logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in context.snapshot().items():
            event.setdefault(key, value)
        return event

    return merge


def _pretty(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    return render(event)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _rotate(path: Path) -> None:
    for index in range(_KEEP_FILES - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def stderr_sink() -> Sink:
    """Lines for a person at a terminal (one-shot commands)."""
    return Sink(fd=sys.stderr.fileno())
