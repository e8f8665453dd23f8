"""The real daemon with drop-folder input that blocks a careless reader, and a stuck check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.cli import main
from al_object_detection.ingest import checks, faults
from al_object_detection.ingest.quarantine import Quarantine

from .images import png
from .running import RunningDaemon
from .tiny import write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]
SHUTDOWN_TIMEOUT_S = 4.0
EXIT_MARGIN_S = 30.0  # generous: without the bound, the daemon never exits at all


def paused_project(root: Path, dataset: str) -> Path:
    """A tiny project, paused (only ingestion works), with an empty dataset."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    FiftyOneStore.open(dataset, create=True)
    config = write_project(root, dataset, daemon={"shutdown_timeout_s": SHUTDOWN_TIMEOUT_S})
    assert main(["override", "--config", str(config), "pause", "--reason", "t", "--yes"]) == 0
    (root / "drop").mkdir()
    return config


def pool_size(fo: Any, name: str) -> int:
    dataset = fo.load_dataset(name)
    dataset.reload()
    return len(dataset)


def test_symlinks_to_a_pipe_and_a_folder_neither_stall_ingestion_nor_shutdown(
    tmp_path: Path, fresh_dataset: str, fo: Any
) -> None:
    """``mkdir drop/.h; mkfifo drop/.h/f; ln -s .h/f drop/p.png``; ``d.png -> drop/sub``."""
    config = paused_project(tmp_path, fresh_dataset)
    drop = tmp_path / "drop"
    (drop / ".h").mkdir()
    os.mkfifo(drop / ".h" / "f")
    (drop / "p.png").symlink_to(".h/f")
    (drop / "sub").mkdir()
    (drop / "d.png").symlink_to(drop / "sub")
    daemon = RunningDaemon(config, tmp_path / "run.log")
    try:
        daemon.event("ready")
        (drop / "good.png").write_bytes(png(colour=60))
        daemon.wait_for(lambda: pool_size(fo, fresh_dataset) == 1)
        quarantine = Quarantine(tmp_path / "state" / "quarantine")
        daemon.wait_for(lambda: quarantine.reasons() == {checks.NOT_A_FILE: 2})
        daemon.process.terminate()
        assert daemon.process.wait(timeout=SHUTDOWN_TIMEOUT_S + EXIT_MARGIN_S) == 0
        daemon.event("stopped", timeout_s=5)
    finally:
        daemon.close()


def test_sigterm_ends_the_daemon_while_a_check_is_stuck(
    tmp_path: Path, fresh_dataset: str, fo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = paused_project(tmp_path, fresh_dataset)
    marker = tmp_path / "stuck"
    monkeypatch.setenv("ALOD_FAULT_POINT", faults.CHECK_STARTED)
    monkeypatch.setenv("ALOD_FAULT_ACTION", "hang")  # as a read from a hung file system
    monkeypatch.setenv("ALOD_FAULT_MARKER", str(marker))
    daemon = RunningDaemon(config, tmp_path / "run.log")
    try:
        daemon.event("ready")
        (tmp_path / "drop" / "a.png").write_bytes(png(colour=61))
        daemon.wait_for(marker.exists)
        daemon.process.terminate()
        assert daemon.process.wait(timeout=SHUTDOWN_TIMEOUT_S + EXIT_MARGIN_S) == 0
        daemon.event("stopped", timeout_s=5)
    finally:
        daemon.close()
