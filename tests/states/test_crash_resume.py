"""SIGKILL a real child process at every step boundary and inside every side effect, then resume.

Each run resumes with ``from_cache`` and is killed by this process (a real SIGKILL) at the next
fault point of :data:`KILL_POINTS`, which the child reports reaching: no timing decides where a
kill lands. The trace of every point the children passed must equal the planned kills, so no
boundary goes untested. At the end the run must have finished all rounds with exactly one
``submit`` call per round (plus one per kill between a submit and its record: the key makes that
repeat harmless), nothing lost, and a consistent log.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore
from tests.support.fault_points import FaultListener, traced

pytestmark = [pytest.mark.slow, pytest.mark.integration]
SCRIPT = Path(__file__).parents[1] / "support" / "tiny_project.py"
SIDE_EFFECTS = {m.ANNOTATING: "submitted", m.IMPORTING: "imported", m.TRAINING: "trained"}
#: Round 0 bootstraps at random (pending -> sampling); round 1 predicts; rounds = 1.
ROUND_STATES = {
    0: [m.PENDING, m.SAMPLING, m.ANNOTATING, m.IMPORTING, m.TRAINING, m.EVALUATING, m.COMPLETED],
    1: [m.PENDING, m.PREDICTING, m.SAMPLING, m.ANNOTATING, m.IMPORTING, m.TRAINING,
        m.EVALUATING, m.COMPLETED],
}  # fmt: skip


def kill_points() -> list[str]:
    """Every step boundary and every side effect's unrecorded moment, in the order reached."""
    points = ["step:none"]
    for index, states in ROUND_STATES.items():
        for state in states:
            points.append(f"step:{index}:{state}")
            if state in SIDE_EFFECTS:
                points.append(f"{SIDE_EFFECTS[state]}:{index}")
    return points


KILL_POINTS = kill_points()


@pytest.fixture
def faults() -> Iterator[FaultListener]:
    listener = FaultListener()
    yield listener
    listener.close()


def start_child(
    tmp: Path, dataset: str, shapes: Path, env: dict[str, str]
) -> subprocess.Popen[str]:
    args = [tmp / "state.sqlite", dataset, shapes, tmp / "work", tmp / "submits.jsonl"]
    with (tmp / "child.log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), *map(str, args)],
            stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, **env},
        )  # fmt: skip


def check_consistent(tmp: Path) -> RoundStore:
    db = sqlite3.connect(tmp / "state.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = RoundStore(tmp / "state.sqlite")
    for current in store.rounds():
        assert store.transitions(current.round)[-1].to_state == current.state
    return store


def test_resume_after_a_sigkill_at_every_boundary_duplicates_nothing(
    tmp_path: Path, dataset_name: str, shapes_dir: Path, fo: Any, faults: FaultListener
) -> None:
    trace = tmp_path / "trace.txt"
    for point in KILL_POINTS:
        child = start_child(tmp_path, dataset_name, shapes_dir, faults.env(point, trace))
        try:
            reported = faults.wait(child, timeout_s=300)
        finally:
            child.kill()
        log = (tmp_path / "child.log").read_text()[-3000:]
        assert reported == point, f"expected to stop at {point}, got {reported}:\n{log}"
        assert child.wait() == -signal.SIGKILL
        if (tmp_path / "state.sqlite").exists():
            check_consistent(tmp_path)

    finished = start_child(tmp_path, dataset_name, shapes_dir, faults.env("", trace))
    out, _ = finished.communicate(timeout=300)
    assert finished.returncode == 0, (tmp_path / "child.log").read_text()[-3000:]
    assert "finished" in out
    assert set(traced(trace)) == set(KILL_POINTS), "a fault point went without a kill"

    store = check_consistent(tmp_path)
    rounds = store.rounds()
    assert [r.state for r in rounds] == [m.COMPLETED, m.COMPLETED]
    submits = [json.loads(line) for line in (tmp_path / "submits.jsonl").read_text().splitlines()]
    calls = Counter(_round_of(entry["key"]) for entry in submits)
    # one call per round, and one more after the kill between its submit and its record
    assert calls == {r.round: 2 for r in rounds}, f"submit calls: {submits}"
    assert all(len({e["key"] for e in submits if _round_of(e["key"]) == r}) == 1 for r in calls)
    picked = [sample for r in rounds for sample in r.picked or []]
    assert len(picked) == len(set(picked)) == 6 + 4
    dataset = fo.load_dataset(dataset_name)
    labeled = dataset.match({"al_split": "labeled"})
    assert sorted(labeled.values("id")) == sorted(picked)
    assert sorted(set(labeled.values("al_round"))) == [0, 1]
    assert all(r.model_path and Path(r.model_path).is_file() for r in rounds)


def _round_of(key: str) -> int:
    return int(key.rsplit("-r", 1)[1].split("-")[0])


def test_the_kill_points_cover_every_working_state_and_side_effect() -> None:
    stepped = {point.split(":")[2] for point in KILL_POINTS if point.count(":") == 2}
    assert stepped == {*m.WORKING, m.COMPLETED}
    assert {p.split(":")[0] for p in KILL_POINTS} == {"step", *SIDE_EFFECTS.values()}
