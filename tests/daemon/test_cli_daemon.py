"""The operator commands: override, status, logs; run refuses bad config and unwritable dirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from al_object_detection.cli import main
from al_object_detection.states.store import RoundStore

from .tiny import write_project


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_project(tmp_path, "cli-data")


def test_override_previews_by_default_and_applies_with_yes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["override", "--config", str(config)]
    assert main([*base, "cancel", "--reason", "r"]) == 2
    assert "the project has not run yet" in capsys.readouterr().err
    rounds = RoundStore(config.parent / "state" / "tiny.sqlite")
    rounds.open_round(0, 2, actor="daemon")
    rounds.fire(0, "bootstrap", actor="daemon")

    assert main([*base, "--to", "training", "--reason", "skip it"]) == 2
    assert "--force moves it anyway" in capsys.readouterr().err
    assert main([*base, "--to", "training", "--reason", "skip it", "--force", "--as", "bob"]) == 0
    assert capsys.readouterr().out.startswith("would round 0: sampling -> training (forced")
    assert rounds.current().state == "sampling"  # type: ignore[union-attr]
    args = [*base, "--to", "training", "--reason", "skip it", "--force", "--as", "bob", "--yes"]
    assert main(args) == 0
    assert "applied: round 0: sampling -> training" in capsys.readouterr().out
    assert rounds.current().state == "training"  # type: ignore[union-attr]
    assert main([*base, "retry", "--to", "pending", "--reason", "r"]) == 2
    assert "either an action" in capsys.readouterr().err

    assert main([*base, "pause", "--reason", "cvat upgrade", "--as", "ann", "--yes"]) == 0
    assert capsys.readouterr().out.startswith("applied: pause the daemon (by ann: cvat upgrade)")
    assert main(["status", "--config", str(config), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["daemon"]["paused"]["who"] == "ann"
    assert status["round"]["state"] == "training"
    assert [o["action"] for o in status["overrides"]] == ["move", "pause"]
    assert status["overrides"][0]["forced"] is True
    assert main(["status", "--config", str(config)]) == 0
    assert "PAUSED by ann" in capsys.readouterr().out


def test_logs_pretty_prints_a_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "state" / "tiny.log.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    event = {
        "event": "transition", "round": 0, "from": "", "to": "pending", "actor": "daemon",
        "reason": "round opened", "level": "info", "timestamp": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    log.write_text(json.dumps(event) + "\nnot json\n")
    assert main(["logs", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-01-01 00:00:00 INFO    [r0] round 0: - -> pending by daemon (round opened)",
        "not json",
    ]
    assert main(["logs", str(tmp_path / "nothing.jsonl")]) == 2


def run(config: Path) -> tuple[int, dict[str, object]]:
    """``alod run`` in a child process: its exit code and its last log line."""
    done = subprocess.run(
        [sys.executable, "-m", "al_object_detection.cli", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_run_refuses_a_bad_config_without_restart_loop(tmp_path: Path) -> None:
    code, line = run(write_project(tmp_path, "cli-data", daemon={"watch": "drop"}))
    assert code == 78
    assert (line["event"], line["level"], line["exit_code"]) == ("config_error", "error", 78)
    assert "[daemon] watch = 'drop' must be a list" in str(line["error"])


def test_run_refuses_a_state_dir_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    code, line = run(write_project(tmp_path, "cli-data", daemon={"image_store": "a-file/images"}))
    assert code == 73
    assert line["event"] == "state_dir_unwritable"
    assert "a-file" in str(line["error"])
