"""The worker: a child process that runs the long steps (predict, sample, import, train, evaluate).

    python -m al_object_detection.daemon.worker --config alod.toml --channel-fd N --parent PID

It builds the project's engine once, then for each request checks that the round is still
where the daemon saw it and does exactly one ``Engine.step()``. The SQLite store and FiftyOne
are the shared truth and the engine's intents make a killed step safe to run again. It dies
with the daemon (``PR_SET_PDEATHSIG``) and logs JSON lines on stdout, which the daemon
forwards into its own stream.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

import structlog

from al_object_detection.adapters.annotation.protocol import AnnotationConfigError
from al_object_detection.adapters.dataset.store import StoreError
from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.detection.yolo import DetectorError
from al_object_detection.assembly import build_engine
from al_object_detection.daemon import exitcodes
from al_object_detection.daemon.channel import Channel, ChannelClosed
from al_object_detection.daemon.logstream import (
    LogContext,
    Sink,
    adopt_third_party,
    configure,
    engine_log,
)
from al_object_detection.daemon.redact import secret_values
from al_object_detection.daemon.settings import load_config
from al_object_detection.project import ProjectConfigError
from al_object_detection.spec import EngineSpec

log = structlog.get_logger("alod.worker")
_PR_SET_PDEATHSIG = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Serve step requests until the daemon closes the channel."""
    parser = argparse.ArgumentParser(prog="al_object_detection.daemon.worker")
    parser.add_argument("--config", required=True)
    parser.add_argument("--channel-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when a step stops
    channel = Channel(socket.socket(fileno=args.channel_fd))
    context = LogContext()
    configure(Sink(fd=sys.stdout.fileno()), context=context, secrets=secret_values())
    context.bind(process="worker")
    try:
        engine = _build(args.config)
    except Exception as error:  # noqa: BLE001 - whatever stops the build is reported to the daemon
        config_error = _is_config_error(error)
        _send(channel, {"error": f"{type(error).__name__}: {error}", "config_error": config_error})
        return exitcodes.CONFIG if config_error else 1
    _send(channel, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            request = channel.receive()
        except ChannelClosed:
            return 0
        if request is None:
            continue
        context.bind(**request.get("context", {}))
        _send(channel, serve(engine, request))


def serve(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run one step if the round is still in the requested state."""
    current = engine.store.current()
    if current is None or (current.round, current.state) != (request["round"], request["state"]):
        return {"skipped": True, "state": current.state if current else None}
    engine.ctx.store.reload()  # the daemon adds pool samples while this process waits
    started = time.monotonic()
    try:
        result = engine.step()
    except Exception as error:  # noqa: BLE001 - reported to the daemon, which decides what next
        log.error("worker_step_error", error=f"{type(error).__name__}: {error}")
        return {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    return {
        "trigger": result.trigger,
        "round": result.round.round,
        "state": result.round.state,
        "seconds": time.monotonic() - started,
    }


def _build(config_path: str) -> Any:
    spec = EngineSpec.from_project(load_config(config_path).project)
    engine = build_engine(
        spec, reports=True, actor="worker", log=engine_log(log), log_error=log.error
    )
    adopt_third_party()
    return engine


def _is_config_error(error: Exception) -> bool:
    """Whether a failed build can only be the project's settings (starting again cannot help)."""
    known = (ProjectConfigError, ConfigError, DetectorError, StoreError, AnnotationConfigError)
    return isinstance(error, known)


def _send(channel: Channel, message: dict[str, Any]) -> None:
    try:
        channel.send(message)
    except ChannelClosed:
        sys.exit(0)


def _die_with_parent(parent: int) -> None:
    """Get SIGKILL when the daemon dies, even by SIGKILL; exit if it is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)


if __name__ == "__main__":
    sys.exit(main())
