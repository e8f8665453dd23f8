"""The daemon's JSON log lines, made readable for a person (``alod logs``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

CONTEXT_KEYS = ("project", "round", "state", "attempt")
_SHOWN = {*CONTEXT_KEYS, "timestamp", "level", "event", "logger", "exception"}
_TRANSITION_KEYS = {"from", "to", "actor", "reason", "at"}


def render(event: Mapping[str, Any]) -> str:
    """One event as ``time LEVEL [project r1 training a1] text key=value ...``."""
    stamp = str(event.get("timestamp", ""))[:19].replace("T", " ")
    level = str(event.get("level", "info")).upper()
    context = " ".join(_context_parts(event))
    shown = set(_SHOWN)
    if event.get("event") == "transition":
        text = f"round {event.get('round')}: {event.get('from') or '-'} -> {event.get('to')}"
        text += f" by {event.get('actor')}" + (
            f" ({event['reason']})" if event.get("reason") else ""
        )
        shown |= _TRANSITION_KEYS
    else:
        text = str(event.get("event", ""))
    extras = " ".join(f"{k}={_short(v)}" for k, v in event.items() if k not in shown)
    line = f"{stamp} {level:<7} [{context}] {text}" + (f"  {extras}" if extras else "")
    if event.get("exception"):
        line += "\n" + str(event["exception"]).rstrip()
    return line


def render_line(line: str) -> str:
    """A raw line from the stream: rendered when it is a JSON event, else as it is."""
    text = line.rstrip("\n")
    try:
        event = json.loads(text)
    except ValueError:
        return text
    return render(event) if isinstance(event, dict) else text


def read_lines(
    path: Path,
    *,
    follow: bool = False,
    poll_s: float = 0.5,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[str]:
    """The lines of ``path``; ``follow``: then wait for more, across rotations."""
    handle: IO[bytes] | None = None
    partial = b""
    try:
        while True:
            if handle is None and path.exists():
                handle, partial = path.open("rb"), b""
            if handle is not None:
                for raw in iter(handle.readline, b""):
                    if raw.endswith(b"\n") or not follow:
                        yield (partial + raw).decode("utf-8", "replace")
                        partial = b""
                    else:  # a line still being written: keep it until its end arrives
                        partial += raw
            if not follow or not keep_going():
                return
            if handle is not None and _rotated(path, handle):
                handle.close()
                handle = None
                continue
            time.sleep(poll_s)
    finally:
        if handle is not None:
            handle.close()


def _rotated(path: Path, handle: IO[bytes]) -> bool:
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    return info.st_ino != os.fstat(handle.fileno()).st_ino or info.st_size < handle.tell()


def _context_parts(event: Mapping[str, Any]) -> Iterator[str]:
    if event.get("project"):
        yield str(event["project"])
    if event.get("round") is not None:
        yield f"r{event['round']}"
    if event.get("state"):
        yield str(event["state"])
    if event.get("attempt") is not None:
        yield f"a{event['attempt']}"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
