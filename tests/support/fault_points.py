"""Named fault points: a child process reports reaching one, and its parent SIGKILLs it there.

The child calls :func:`reached` at each point (``step:<round>:<state>`` before an engine step,
``submitted:<round>`` and the like right after a side effect). When the point is the one armed
in ``ALOD_FAULT_AT``, the child tells the parent over the abstract Unix datagram socket named in
``ALOD_FAULT_SOCKET`` and blocks until it is killed, so where the kill lands never depends on
timing. Every point passed is appended to ``ALOD_FAULT_TRACE`` (when set), so a test can check
that its kills covered every point the run went through.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ENV_AT, ENV_SOCKET, ENV_TRACE = "ALOD_FAULT_AT", "ALOD_FAULT_SOCKET", "ALOD_FAULT_TRACE"


def reached(point: str) -> None:
    """Note ``point``; when it is the armed one, report it and wait to be killed."""
    trace = os.environ.get(ENV_TRACE)
    if trace:
        with open(trace, "a") as out:
            out.write(point + "\n")
    if os.environ.get(ENV_AT) != point:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as report:
        report.sendto(f"{point} {os.getpid()}".encode(), "\0" + os.environ[ENV_SOCKET])
    threading.Event().wait()  # the parent kills this process now


def traced(path: Path) -> list[str]:
    """The points the children passed, in order."""
    return path.read_text().splitlines() if path.exists() else []


class FaultListener:
    """The parent's end: an address to hand to children and a bounded wait for their report."""

    def __init__(self) -> None:
        self.address = f"alod-fault-{uuid.uuid4().hex}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind("\0" + self.address)
        self._socket.settimeout(0.2)

    def env(self, point: str, trace: Path | None = None) -> dict[str, str]:
        """The environment variables that arm ``point`` in a child."""
        env = {ENV_AT: point, ENV_SOCKET: self.address}
        if trace is not None:
            env[ENV_TRACE] = str(trace)
        return env

    def wait(self, process: subprocess.Popen[Any], timeout_s: float) -> str | None:
        """The point a child of ``process``'s tree reported, or None if it exited first.

        ``timeout_s`` only bounds a hung run (the test then fails); it never decides where a
        kill lands.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                return self._socket.recv(4096).decode().split()[0]
            except TimeoutError:
                if process.poll() is not None:
                    return self._left_behind()
        raise TimeoutError(f"no fault point reported within {timeout_s:.0f}s")

    def _left_behind(self) -> str | None:
        self._socket.setblocking(False)
        try:
            return self._socket.recv(4096).decode().split()[0]
        except BlockingIOError:
            return None
        finally:
            self._socket.settimeout(0.2)

    def close(self) -> None:
        self._socket.close()
