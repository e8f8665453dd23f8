"""The real daemon on a tiny project: notify protocol, shutdown, overrides, drop folders."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.cli import main
from al_object_detection.daemon.driver import INTERRUPTED
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.states.store import RoundStore

from .images import bomb_png, jpeg, png
from .running import RunningDaemon
from .tiny import load_shapes, write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def state_of(state_file: Path) -> tuple[int, str, int] | None:
    current = RoundStore(state_file).current() if state_file.exists() else None
    return (current.round, current.state, current.attempt) if current else None


def test_sigterm_in_training_records_the_attempt_and_the_next_start_resumes_it(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    load_shapes(fresh_dataset, shapes_dir)
    config = write_project(tmp_path, fresh_dataset, daemon={"metrics_interval_s": 1.0})
    state_file = tmp_path / "state" / "tiny.sqlite"
    daemon = RunningDaemon(config, tmp_path / "run1.log", watchdog_s=1.5)
    try:
        daemon.wait_for(lambda: any(m.startswith("READY=1\nSTATUS=") for m in daemon.messages))
        daemon.wait_for(lambda: state_of(state_file) == (0, "training", 1), timeout_s=120)
        daemon.wait_for(lambda: daemon.messages.count("WATCHDOG=1") >= 2, timeout_s=10)
        assert any(m.startswith("STATUS=round 0 ") for m in daemon.messages)
        metrics = tmp_path / "state" / "tiny.prom"
        daemon.wait_for(lambda: 'state="training"} 1' in _read(metrics), timeout_s=10)
        assert main(["status", "--config", str(config)]) == 0

        assert daemon.stop(timeout_s=60) == 0
    finally:
        daemon.close()
    assert any(m.startswith("STOPPING=1") for m in daemon.messages)
    current = RoundStore(state_file).current()
    assert current is not None
    assert (current.state, current.failed_in, current.last_error) == (
        "failed",
        "training",
        INTERRUPTED,
    )
    events = daemon.events()
    transitions = [e for e in events if e["event"] == "transition"]
    assert (transitions[-1]["round"], transitions[-1]["to"]) == (0, "failed")
    assert {"project", "round", "state", "attempt"} <= set(transitions[-1])
    assert [e["event"] for e in events if e["event"] in ("stopping", "stopped")] == [
        "stopping", "stopped",
    ]  # fmt: skip
    stopped = next(e for e in events if e["event"] == "stopped")
    assert stopped["seconds"] <= 15 + 1  # shutdown_timeout_s: the daemon's own clock, not ours

    # the next start retries the interrupted attempt; an override cancels it under the worker
    daemon = RunningDaemon(config, tmp_path / "run2.log")
    try:
        daemon.event("resumed_interrupted")
        daemon.wait_for(lambda: state_of(state_file) == (0, "training", 2), timeout_s=30)
        daemon.event("worker_step", state="training", timeout_s=30)
        args = ["override", "--config", str(config), "cancel", "--reason", "test", "--yes"]
        assert main(args) == 0
        # The override lands while the worker trains (it is stopped) or just before it starts
        # (it skips the step): either way the training never finishes.
        daemon.event("transition", to="cancelled", timeout_s=10)
        assert daemon.stop() == 0
    finally:
        daemon.close()
    assert state_of(state_file) == (0, "cancelled", 2)
    reached = {e["to"] for e in daemon.events() if e["event"] == "transition"}
    assert "evaluating" not in reached


def test_a_paused_daemon_still_ingests_quarantines_and_follows_overrides(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    store = load_shapes(fresh_dataset, shapes_dir)
    before = len(store.dataset)
    config = write_project(tmp_path, fresh_dataset, poll_interval_s=0.5)
    pause = ["override", "--config", str(config), "pause", "--reason", "maintenance", "--yes"]
    assert main(pause) == 0
    drop, image_store = tmp_path / "drop", tmp_path / "state" / "images"
    drop.mkdir()
    (drop / "good.png").write_bytes(png(colour=40))
    daemon = RunningDaemon(config, tmp_path / "run.log")
    try:
        daemon.event("ready")
        daemon.event("paused")
        (drop / "zero.png").write_bytes(b"")
        (drop / "truncated.jpg").write_bytes(jpeg((64, 64))[:300])
        (drop / "bomb.png").write_bytes(bomb_png(20000, 20000))
        (drop / "again.png").write_bytes(png(colour=40))
        outside = tmp_path / "outside.png"
        outside.write_bytes(png(colour=41))
        os.symlink(outside, drop / "link.png")
        quarantine = Quarantine(tmp_path / "state" / "quarantine")
        daemon.wait_for(lambda: sum(quarantine.reasons().values()) == 5, timeout_s=30)
        rejected = {e["reason"] for e in daemon.events() if e["event"] == "ingest_rejected"}
        assert rejected == {"empty", "corrupt", "too_many_pixels", "duplicate", "symlink_outside"}
        daemon.wait_for(lambda: _ingested(store, image_store) == 1)

        shutil.rmtree(drop)  # the folder goes away while watched, and comes back
        daemon.event("watch_folder_missing", timeout_s=10)
        drop.mkdir()
        (drop / "later.png").write_bytes(png(colour=42))
        daemon.wait_for(lambda: _ingested(store, image_store) == 2, timeout_s=30)
        assert daemon.process.poll() is None

        resume = ["override", "--config", str(config), "resume", "--reason", "done", "--yes"]
        assert main(resume) == 0
        daemon.event("resumed", timeout_s=10)
        daemon.event("transition", to="pending", timeout_s=10)
        daemon.process.send_signal(signal.SIGINT)
        assert daemon.process.wait(timeout=30) == 0
    finally:
        daemon.close()
    assert len(store.dataset) == before + 2


def _ingested(store: Any, image_store: Path) -> int:
    """Samples whose file lives in the daemon's image store (what ingestion added)."""
    from fiftyone import ViewField

    store.dataset.reload()
    return int(store.dataset.match(ViewField("filepath").starts_with(f"{image_store}/")).count())


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
