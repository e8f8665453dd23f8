"""``alod status``: where the project stands, read from the files the daemon writes.

It opens the round store and the daemon's file read-mostly (SQLite WAL lets it read while the
daemon writes) and never imports FiftyOne: pool and labeled counts come from the snapshot
the running daemon refreshes.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from al_object_detection.adapters.annotation.backends import batch_links
from al_object_detection.adapters.annotation.credentials import SecretSource
from al_object_detection.daemon.daemondb import SNAPSHOT, DaemonDB
from al_object_detection.daemon.driver import CREDENTIALS_HINT, WAITING_FOR_OPERATOR
from al_object_detection.daemon.locks import lock_holder
from al_object_detection.daemon.settings import DaemonConfig
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.states.store import Round, RoundStore

_COUNTS = ("pool", "labeled", "val", "picked", "quarantined")


def collect_status(config: DaemonConfig, *, source: SecretSource | None = None) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data."""
    project, paths = config.project, config.project.paths
    pid = lock_holder(paths.instance_lock)
    quarantined = sum(Quarantine(config.daemon.quarantine).reasons().values())
    status: dict[str, Any] = {
        "project": project.name,
        "dataset": project.dataset,
        "state_file": str(paths.state_file),
        "daemon": {"running": pid is not None, "pid": pid or None, "paused": None},
        "round": None,
        "counts": {"picked": 0, "quarantined": quarantined},
        "annotation": [],
        "rounds": [],
        "overrides": [],
        "ingest": None,
        "last_error": None,
    }
    if not paths.state_file.is_file():
        return status
    rounds = RoundStore(paths.state_file)
    daemon = DaemonDB(paths.daemon_db)
    try:
        history = rounds.rounds()
        status["daemon"]["paused"] = daemon.paused()
        status["round"] = _round_status(history[-1]) if history else None
        status["rounds"] = [_round_summary(r) for r in history]
        status["counts"]["picked"] = sum(len(r.picked or []) for r in history)
        status["annotation"] = _annotation(rounds, history, source or SecretSource.default())
        status["overrides"] = [asdict(o) for o in daemon.overrides()]
        snapshot = daemon.get(SNAPSHOT) or {}
        status["counts"].update(snapshot.get("counts", {}))
        status["counts"]["as_of"] = snapshot.get("at")
        status["ingest"] = snapshot.get("ingest")
        status["last_error"] = snapshot.get("last_error")
    finally:
        rounds.close()
        daemon.close()
    return status


def render_status(status: dict[str, Any]) -> str:
    """The status for a person."""
    lines = [_daemon_line(status)]
    current = status["round"]
    if current is None:
        lines.append("no round yet")
    else:
        spent = _duration(current["seconds_in_state"])
        lines.append(
            f"round {current['round']}: {current['state']} for {spent} "
            f"(attempt {current['attempt']})"
        )
        if current["last_error"] and current["state"] == "failed":  # not once it recovered
            lines.append(f"  last error: {current['last_error']}")
    error = status["last_error"]
    if error and error.startswith(WAITING_FOR_OPERATOR):
        lines.append(WAITING_FOR_OPERATOR.upper() + error[len(WAITING_FOR_OPERATOR) :])
        lines.append(f"  hint: {CREDENTIALS_HINT}")
    elif error:
        lines.append(f"daemon error: {error}")
    counts = status["counts"]
    shown = [f"{k} {counts[k]}" for k in _COUNTS if k in counts]
    as_of = f" (as of {counts['as_of']})" if counts.get("as_of") else ""
    lines.append("counts: " + ", ".join(shown) + as_of)
    for task in status["annotation"]:
        lines.append(f"annotation round {task['round']}: {task['key']} " + " ".join(task["links"]))
    if status["rounds"]:
        lines.append("mAP per round:")
        for summary in status["rounds"]:
            score = "-" if summary["map50_95"] is None else f"{summary['map50_95']:.3f}"
            lines.append(f"  round {summary['round']}: {summary['state']:<10} mAP50-95 {score}")
    if status["overrides"]:
        lines.append("overrides:")
        lines.extend(f"  {_override_line(row)}" for row in status["overrides"])
    return "\n".join(lines)


def _daemon_line(status: dict[str, Any]) -> str:
    daemon = status["daemon"]
    running = f"running (pid {daemon['pid']})" if daemon["running"] else "not running"
    if daemon["paused"]:
        paused = daemon["paused"]
        running += f", PAUSED by {paused['who']} at {paused['at']}: {paused['reason']}"
    return f"project {status['project']} (dataset {status['dataset']}): daemon {running}"


def _override_line(row: dict[str, Any]) -> str:
    move = ""
    if row["round"] is not None:
        move = f" round {row['round']}: {row['from_state']} -> {row['to_state']}"
    forced = " (forced)" if row["forced"] else ""
    return f"{row['at']} {row['who']} {row['action']}{move}{forced}: {row['reason']}"


def status_json(status: dict[str, Any]) -> str:
    """The status as one JSON document."""
    return json.dumps(status, indent=2, default=str)


def _round_status(current: Round) -> dict[str, Any]:
    since = datetime.fromisoformat(current.state_since)
    return {
        "round": current.round,
        "state": current.state,
        "since": current.state_since,
        "seconds_in_state": max(0.0, (datetime.now(UTC) - since).total_seconds()),
        "attempt": current.attempt,
        "failed_in": current.failed_in,
        "last_error": current.last_error,
        "budget": current.budget,
    }


def _round_summary(current: Round) -> dict[str, Any]:
    metrics = current.metrics or {}
    return {
        "round": current.round,
        "state": current.state,
        "picked": len(current.picked or []),
        "labeled": metrics.get("labeled"),
        "map50": metrics.get("map50"),
        "map50_95": metrics.get("map50_95"),
    }


def _annotation(
    rounds: RoundStore, history: list[Round], source: SecretSource
) -> list[dict[str, Any]]:
    if not history:
        return []
    latest = history[-1].round
    found = []
    for intent in rounds.intents(latest):
        if intent["kind"] != "annotate" or intent["result"] is None:
            continue
        links = batch_links(str(intent["result"]), source)  # asked of the backend that made it
        found.append({"round": latest, "key": intent["key"], "links": links})
    return found


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
