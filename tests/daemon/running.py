"""A real ``alod run`` in a child process, its log lines and its notify datagrams."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class RunningDaemon:
    """Starts ``alod run``; reads its JSON lines from a file and its sd_notify datagrams."""

    def __init__(
        self, config: Path, log: Path, *, watchdog_s: float | None = None, cwd: Path | None = None
    ) -> None:
        self.log = log
        self.notify_path = log.with_suffix(".sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.settimeout(0.2)
        self.messages: list[str] = []
        self._reading = True
        self._reader = threading.Thread(target=self._read_notify, daemon=True)
        self._reader.start()
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path))
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1e6))
        command = [sys.executable, "-m", "al_object_detection.cli", "run"]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,  # where its .env is read from
            )

    def events(self) -> list[dict[str, Any]]:
        """Every JSON event logged so far."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found

    def wait_for(self, what: Callable[[], Any], timeout_s: float = 60.0) -> Any:
        """Poll ``what`` until it is truthy; fails on a timeout or if the daemon exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = what()
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the daemon exited ({self.process.returncode}):\n{self.tail()}"
                )
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s}s:\n{self.tail()}")

    def event(self, name: str, timeout_s: float = 60.0, **fields: Any) -> dict[str, Any]:
        """The first event ``name`` (with ``fields``), waiting for it."""

        def find() -> dict[str, Any] | None:
            for event in self.events():
                if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
                    return event
            return None

        found: dict[str, Any] = self.wait_for(find, timeout_s)
        return found

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, then the exit code."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout_s)
        finally:
            self.close()

    def close(self) -> None:
        """Kill it if it still runs; stop listening."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reading = False
        self._reader.join(timeout=2)
        self.notify.close()
        self.notify_path.unlink(missing_ok=True)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])

    def _read_notify(self) -> None:
        while self._reading:
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return
