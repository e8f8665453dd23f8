"""``alod run`` refuses bad settings before READY (exit 78), creates a dataset only when told,
and a worker that cannot start with the project's settings fails the round (no respawn loop)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.cli import main
from al_object_detection.states.store import RoundStore

from .running import RunningDaemon
from .tiny import load_shapes, write_project

pytestmark = pytest.mark.integration


def run_until_done(config: Path) -> tuple[int, list[dict[str, Any]]]:
    """``alod run --until-done`` in a child process: its exit code and its log events."""
    done = subprocess.run(
        [sys.executable, "-m", "al_object_detection.cli", "run", "--until-done",
         "--config", str(config)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events


def _edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("yolov8n.yaml", "weights/gone.pt"), r"\[detector\] model: checkpoint not found: .*gone"),
        (("yolov8n.yaml", "yolov8q.yaml"), r"'yolov8q.yaml': not a file, nor a model yaml"),
        (("yolo.toml", "yolo.tmol"), r"\[detector\] config: .*yolo\.tmol: cannot read"),
        (("epochs", "epoch"), r"yolo\.toml: unknown key in \[train\] 'epoch' \(did you mean 'ep"),
        (
            ("bootstrap_size = 6", 'bootstrap_size = 6\nbootstrap = "zero_shot"'),
            r"zero_shot_config: .*OWLv2 weights 'google/owlv2-base-patch16-ensemble' are not",
        ),
        (("[stop]", "[compute]\nbatchsize = 8\n[stop]"), r"unknown key in \[compute\] .batch"),
        (("[stop]", '[compute]\nnum_gpus = "1"\n[stop]'), r"\[compute\] num_gpus = '1' must be a"),
    ],
)
def test_bad_detector_settings_stop_the_start_with_78(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    config = write_project(tmp_path, "never-opened")
    _edit(tmp_path / "yolo.toml" if edit[0] == "epochs" else config, *edit)
    code, events = run_until_done(config)
    assert code == 78
    last = events[-1]
    assert (last["event"], last["exit_code"]) == ("config_error", 78)
    assert re.search(message, last["error"]), last["error"]
    assert not [e for e in events if e["event"] in ("ready", "dataset_created")]


def test_a_bad_zero_shot_config_stops_the_start_with_78(tmp_path: Path) -> None:
    config = write_project(tmp_path, "never-opened")
    (tmp_path / "owl2.toml").write_text("[predict]\ntreshold = 0.2\n")
    zero_shot = 'bootstrap = "zero_shot"\nzero_shot_config = "owl2.toml"'
    _edit(config, "bootstrap_size = 6", f"bootstrap_size = 6\n{zero_shot}")
    code, events = run_until_done(config)
    assert code == 78
    last = events[-1]
    assert (last["event"], last["exit_code"]) == ("config_error", 78)
    assert re.search(
        r"\[sampling\] zero_shot_config: .*owl2\.toml: unknown key in \[predict\] 'treshold' "
        r"\(did you mean 'threshold'\?\)",
        last["error"],
    ), last["error"]
    assert not [e for e in events if e["event"] in ("ready", "dataset_created")]


@pytest.mark.slow
def test_a_missing_dataset_is_created_only_with_create_true(
    tmp_path: Path, fresh_dataset: str, fo: Any
) -> None:
    config = write_project(tmp_path, fresh_dataset)
    code, events = run_until_done(config)
    assert code == 78
    error = events[-1]["error"]
    assert f"[dataset] name = {fresh_dataset!r}: no such FiftyOne dataset" in error
    assert "there are: " in error
    assert "set [dataset] create = true" in error
    assert not fo.dataset_exists(fresh_dataset)

    _edit(config, f'name = "{fresh_dataset}"', f'name = "{fresh_dataset}"\ncreate = true')
    daemon = RunningDaemon(config, tmp_path / "run.log")
    try:
        daemon.event("dataset_created", dataset=fresh_dataset)
        daemon.event("ready")
        assert daemon.stop() == 0
    finally:
        daemon.close()
    assert fo.dataset_exists(fresh_dataset)


@pytest.mark.slow
def test_a_worker_that_cannot_start_fails_the_round_instead_of_respawning(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    load_shapes(fresh_dataset, shapes_dir)
    config = write_project(tmp_path, fresh_dataset)
    _edit(config, 'backend = "oracle"', 'backend = "oracle"\nmax_attempts = 2')
    base = ["override", "--config", str(config)]
    assert main([*base, "pause", "--reason", "set up", "--yes"]) == 0
    daemon = RunningDaemon(config, tmp_path / "run.log")
    try:
        daemon.event("paused")  # started with good settings; now they go bad under it
        _edit(tmp_path / "yolo.toml", "epochs", "epoch")
        assert main([*base, "resume", "--reason", "go", "--yes"]) == 0
        daemon.event("round_needs_operator", timeout_s=120)
        events = daemon.events()
        assert daemon.stop() == 0
    finally:
        daemon.close()
    names = [e["event"] for e in events]
    assert names.count("worker_started") == 2  # one per attempt, then it waits for an operator
    assert names.count("worker_config_error") == 2
    current = RoundStore(tmp_path / "state" / "tiny.sqlite").current()
    assert current is not None
    assert (current.round, current.state, current.attempt) == (0, "failed", 2)
    assert current.last_error is not None
    assert "the worker cannot start: ConfigError" in current.last_error
    assert "unknown key in [train] 'epoch' (did you mean 'epochs'" in current.last_error
