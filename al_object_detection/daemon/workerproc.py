"""The daemon's side of the worker: spawn it, ask for one step, wait responsively, stop it.

While a step runs, the caller's ``abort`` is asked twice a second: a reason (shutdown, the
round changed under the worker) stops the worker with SIGTERM, then SIGKILL after a timeout.
The worker's stdout and stderr are forwarded line by line into the daemon's log stream.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from al_object_detection.daemon.channel import Channel, ChannelClosed
from al_object_detection.daemon.notify import child_environment

#: How a request ended (:attr:`Outcome.kind`).
STEPPED, SKIPPED, ERROR, DIED, ABORTED = "stepped", "skipped", "error", "died", "aborted"
_TICK_S = 0.5


@dataclass(frozen=True)
class Outcome:
    """How a request to the worker ended."""

    kind: str
    state: str | None = None
    trigger: str | None = None
    detail: str = ""
    seconds: float = 0.0
    config_error: bool = False  # the worker cannot start with the project's settings


class WorkerProcess:
    """At most one worker child at a time."""

    def __init__(
        self,
        config_path: Path,
        *,
        forward_line: Callable[[str], None],
        log: Any,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.config_path, self.forward_line, self.log = config_path, forward_line, log
        self.stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Channel | None = None
        self._ready = False
        self._forwarders: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        """Whether a worker process is alive."""
        return self._process is not None and self._process.poll() is None

    def spawn(self) -> None:
        """Start a worker (it imports the ML stack: seconds); no-op when one runs."""
        if self.running:
            return
        self._reap()
        ours, theirs = socket.socketpair()
        command = [
            sys.executable, "-m", "al_object_detection.daemon.worker",
            "--config", str(self.config_path),
            "--channel-fd", str(theirs.fileno()),
            "--parent", str(os.getpid()),
        ]  # fmt: skip
        env = child_environment()
        env.setdefault("TQDM_DISABLE", "1")  # progress bars are not log lines
        self._process = subprocess.Popen(
            command,
            pass_fds=(theirs.fileno(),),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        theirs.close()
        self._channel, self._ready = Channel(ours), False
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._forwarders = [
            _forward(self._process.stdout, self.forward_line, self.log, "info"),
            _forward(self._process.stderr, self.forward_line, self.log, "warning"),
        ]
        self.log.info("worker_started", pid=self._process.pid)

    def step(
        self,
        round_index: int,
        state: str,
        context: dict[str, Any],
        *,
        abort: Callable[[], str | None],
        beat: Callable[[], None],
    ) -> Outcome:
        """Ask the worker to do one step of ``round_index`` in ``state``; wait for the end."""
        self.spawn()
        if not self._ready:
            hello = self._wait(abort, beat)
            if hello.kind != STEPPED:
                return hello
            self._ready = True
        assert self._channel is not None
        request = {"round": round_index, "state": state, "context": context}
        try:
            self._channel.send(request)
        except ChannelClosed:
            return self._died()
        return self._wait(abort, beat)

    def stop(self, timeout_s: float | None = None) -> int | None:
        """Stop the worker: SIGTERM, then SIGKILL after the timeout; its exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout_s if timeout_s is None else timeout_s)
            except subprocess.TimeoutExpired:
                self.log.warning("worker_killed", pid=process.pid, after_s=timeout_s)
                process.kill()
                process.wait()
        code = process.returncode
        self._reap()
        return code

    def _wait(self, abort: Callable[[], str | None], beat: Callable[[], None]) -> Outcome:
        assert self._channel is not None
        while True:
            beat()
            try:
                message = self._channel.receive(timeout=_TICK_S)
            except ChannelClosed:
                return self._died()
            if message is not None:
                return _outcome(message)
            if not self.running:
                return self._died()
            reason = abort()
            if reason is not None:
                code = self.stop()
                return Outcome(ABORTED, detail=f"{reason} (worker exit {code})")

    def _died(self) -> Outcome:
        process = self._process
        code = None
        if process is not None:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
        self._reap()
        return Outcome(DIED, detail=f"worker exited with code {code}")

    def _reap(self) -> None:
        if self._channel is not None:
            self._channel.close()
        for thread in self._forwarders:
            thread.join(timeout=2)
        self._process, self._channel, self._ready, self._forwarders = None, None, False, []


def _outcome(message: dict[str, Any]) -> Outcome:
    if message.get("ready"):
        return Outcome(STEPPED, trigger="ready")
    if message.get("skipped"):
        return Outcome(SKIPPED, state=message.get("state"))
    if "error" in message:
        return Outcome(
            ERROR, detail=str(message["error"]), config_error=bool(message.get("config_error"))
        )
    return Outcome(
        STEPPED,
        state=message.get("state"),
        trigger=message.get("trigger"),
        seconds=float(message.get("seconds", 0.0)),
    )


def _forward(
    stream: IO[bytes], forward_line: Callable[[str], None], log: Any, level: str
) -> threading.Thread:
    """Copy a worker stream into the log: JSON lines as they are, other text as events."""

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            # a progress bar redraws with carriage returns: keep its last state
            text = raw.decode("utf-8", "replace").rstrip("\r\n").rsplit("\r", 1)[-1]
            if not text.strip():
                continue
            if _is_event(text):
                forward_line(text)
            else:
                getattr(log, level)(text, source="worker")
        stream.close()

    thread = threading.Thread(target=pump, name="worker-output", daemon=True)
    thread.start()
    return thread


def _is_event(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
