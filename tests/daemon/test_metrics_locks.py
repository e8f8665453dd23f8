"""The Prometheus textfile, the one-daemon lock and the pool's gate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from al_object_detection.daemon.locks import InstanceLock, PoolGate, lock_holder
from al_object_detection.daemon.metrics import Snapshot, StepTimes, render, write_textfile
from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore


def test_the_textfile_has_state_transitions_durations_and_ingest(tmp_path: Path) -> None:
    rounds = RoundStore(tmp_path / "p.sqlite")
    current = rounds.open_round(3, 2, actor="daemon")
    steps = StepTimes()
    steps.observe("training", 12.5)
    steps.observe("training", 7.5)
    text = render(
        Snapshot(
            project='we"ird', current=current, state_seconds=4.0,
            transitions={"pending": 4, "completed": 3}, steps=steps, accepted=9, published=8,
            rejected={"empty": 2, "duplicate": 1}, samples={"pool": 20, "labeled": 6},
            quarantined=3, paused=True, worker_running=False,
        )
    )  # fmt: skip
    lines = text.splitlines()
    label = 'project="we\\"ird"'
    assert f"alod_round{{{label}}} 3" in lines
    assert f'alod_round_state{{{label},state="pending"}} 1' in lines
    assert f'alod_round_state{{{label},state="training"}} 0' in lines
    assert f'alod_transitions_total{{{label},to="completed"}} 3' in lines
    assert f'alod_step_duration_seconds_sum{{{label},state="training"}} 20.000000' in lines
    assert f'alod_step_duration_seconds_count{{{label},state="training"}} 2' in lines
    assert f'alod_ingest_rejected_total{{{label},reason="empty"}} 2' in lines
    assert f"alod_ingest_accepted_total{{{label}}} 9" in lines
    assert f"alod_daemon_paused{{{label}}} 1" in lines
    assert "# TYPE alod_step_duration_seconds summary" in lines
    assert len(m.STATES) == sum(line.startswith("alod_round_state{") for line in lines)

    path = tmp_path / "metrics" / "alod.prom"
    write_textfile(path, text)
    write_textfile(path, text + "# again\n")
    assert path.read_text().endswith("# again\n")
    assert [p.name for p in path.parent.iterdir()] == ["alod.prom"]  # no partial file left


def test_one_daemon_per_project(tmp_path: Path) -> None:
    path = tmp_path / "p.lock"
    assert lock_holder(path) is None
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path;"
         "from al_object_detection.daemon.locks import InstanceLock;"
         "assert InstanceLock(Path(sys.argv[1])).acquire(5); print('held', flush=True);"
         "time.sleep(30)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert lock_holder(path) == holder.pid
        assert not InstanceLock(path).acquire(0.3)
    finally:
        holder.kill()
        holder.wait()
    lock = InstanceLock(path)
    assert lock.acquire(5)
    lock.release()
    assert lock_holder(path) is None


def test_the_pool_is_closed_between_predicting_and_sampling(tmp_path: Path) -> None:
    rounds = RoundStore(tmp_path / "p.sqlite")
    gate = PoolGate(tmp_path / "p.pool.lock", rounds)

    def allowed() -> bool:
        with gate.publishing() as is_open:
            return is_open

    assert allowed()  # no round yet
    rounds.open_round(0, 2, actor="daemon")
    assert allowed()
    rounds.fire(0, "start", actor="daemon")
    assert not allowed()
    rounds.fire(0, "predicted", actor="worker")
    assert not allowed()
    rounds.fire(0, "fail", actor="worker", reason="x")
    assert not allowed()  # its retry samples again
    rounds.fire(0, "retry", actor="daemon")
    rounds.fire(0, "sampled", actor="worker", picked=["a"])
    assert allowed()
