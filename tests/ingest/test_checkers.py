"""The checker processes: answers, errors, a worker that dies, and a close that never waits."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from al_object_detection.ingest.checkers import CheckerDied, CheckerProcesses, CheckersClosed

WAIT_S = 60.0  # a bound for a spawned process to answer, never reached when things work


@pytest.fixture
def checkers() -> Iterator[CheckerProcesses]:
    pool = CheckerProcesses(2)
    yield pool
    pool.close()


def test_calls_run_in_other_processes_and_errors_come_back(checkers: CheckerProcesses) -> None:
    futures = [checkers.submit(operator.add, i, 1) for i in range(20)]
    assert [f.result(timeout=WAIT_S) for f in futures] == list(range(1, 21))
    assert checkers.submit(os.getpid).result(timeout=WAIT_S) != os.getpid()
    with pytest.raises(ValueError, match="invalid literal"):
        checkers.submit(int, "not a number").result(timeout=WAIT_S)


def test_a_worker_that_dies_fails_its_own_task_only_and_is_replaced(
    checkers: CheckerProcesses,
) -> None:
    died = checkers.submit(os._exit, 3)  # as a decoder crashing the process
    with pytest.raises(CheckerDied, match=r"exited \(3\)"):
        died.result(timeout=WAIT_S)
    after = [checkers.submit(operator.mul, i, 2) for i in range(8)]
    assert [f.result(timeout=WAIT_S) for f in after] == [i * 2 for i in range(8)]


def test_closing_never_waits_for_a_stuck_check_and_kills_the_workers() -> None:
    checkers = CheckerProcesses(1)
    pid = checkers.submit(os.getpid).result(timeout=WAIT_S)
    stuck = checkers.submit(time.sleep, 3600)  # as a read from a hung file system
    queued = checkers.submit(str, "never runs")
    closer = threading.Thread(target=checkers.close, daemon=True)
    closer.start()
    closer.join(timeout=WAIT_S)
    assert not closer.is_alive()
    for future in (stuck, queued):
        with pytest.raises(CheckersClosed):
            future.result(timeout=WAIT_S)
    with pytest.raises(CheckersClosed):
        checkers.submit(str, "too late")
    deadline = time.monotonic() + WAIT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_closing_before_any_work_starts_no_process() -> None:
    checkers = CheckerProcesses(1)
    checkers.close()
    checkers.close()  # twice is fine
    with pytest.raises(CheckersClosed):
        checkers.start()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_script_without_a_main_guard_can_use_them(tmp_path: Path) -> None:
    """Workers start on this package, never by importing the caller's script again."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import operator\n"
        "from al_object_detection.ingest.checkers import CheckerProcesses\n"
        "checkers = CheckerProcesses(1)\n"
        "print('sum', checkers.submit(operator.add, 1, 2).result(timeout=60))\n"
        "checkers.close()\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.splitlines()) == (0, ["sum 3"]), done.stderr
