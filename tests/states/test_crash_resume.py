"""Kill a real child process (SIGKILL) at each step boundary and inside side effects, then resume.

After every crash a fresh process resumes with ``from_cache``; at the end the run must have
finished all rounds with no annotation batch created twice, nothing lost, and a consistent log.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore

pytestmark = [pytest.mark.slow, pytest.mark.integration]
SCRIPT = Path(__file__).parents[1] / "support" / "tiny_project.py"


def run_child(
    tmp: Path, dataset: str, shapes: Path, crash_at: str = ""
) -> subprocess.CompletedProcess[str]:
    args = [
        str(tmp / "state.sqlite"),
        dataset,
        str(shapes),
        str(tmp / "work"),
        str(tmp / "ledger.jsonl"),
    ]
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--crash-at", crash_at],
        capture_output=True, text=True, timeout=240, check=False, env=dict(os.environ),
    )  # fmt: skip


def check_consistent(tmp: Path) -> RoundStore:
    db = sqlite3.connect(tmp / "state.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = RoundStore(tmp / "state.sqlite")
    for current in store.rounds():
        assert store.transitions(current.round)[-1].to_state == current.state
    return store


@pytest.mark.parametrize(
    "crashes",
    [
        ["step:3", "after_submit"],
        ["after_import", "step:2"],
        ["after_train", "step:4", "after_submit"],
    ],
    ids=["between-steps+submit", "import+between-steps", "train+steps+submit"],
)
def test_resume_after_sigkill_duplicates_nothing(
    tmp_path: Path, dataset_name: str, shapes_dir: Path, fo: Any, crashes: list[str]
) -> None:
    for crash_at in crashes:
        done = run_child(tmp_path, dataset_name, shapes_dir, crash_at)
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
        check_consistent(tmp_path)
    finished = run_child(tmp_path, dataset_name, shapes_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "finished" in finished.stdout

    store = check_consistent(tmp_path)
    rounds = store.rounds()
    assert [r.state for r in rounds] == [m.COMPLETED, m.COMPLETED]
    created = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    keys = [entry["key"] for entry in created]
    assert len(keys) == len(set(keys)), f"a batch was created twice: {keys}"
    assert {r.round for r in rounds} == {int(k.split("-r")[1].split("-")[0]) for k in keys}
    picked = [sample for r in rounds for sample in r.picked or []]
    assert len(picked) == len(set(picked)) == 6 + 4
    dataset = fo.load_dataset(dataset_name)
    labeled = dataset.match({"al_split": "labeled"})
    assert sorted(labeled.values("id")) == sorted(picked)
    assert sorted(set(labeled.values("al_round"))) == [0, 1]
    assert all(r.model_path and Path(r.model_path).is_file() for r in rounds)
