"""Fault points stop the thread that reaches them there, not a little later."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from al_object_detection.ingest.faults import STORE_COMMITTED

# a worker thread (as ingestion's placing thread is) notes each pass right after the point
CHILD = """
import sys, threading
from pathlib import Path
from al_object_detection.ingest import faults
passed = Path(sys.argv[1])
def work():
    for index in range(3):
        faults.reach(faults.STORE_COMMITTED)
        passed.write_text(str(index))
worker = threading.Thread(target=work)
worker.start()
worker.join()
"""
RUNS = 10  # a SIGSTOP sent to the whole process let the worker run on in about a third


@pytest.mark.parametrize("run", range(RUNS))
def test_a_worker_thread_stops_at_the_point_it_reached(tmp_path: Path, run: int) -> None:
    passed, marker = tmp_path / "passed", tmp_path / "marker"
    env = {
        **os.environ,
        "ALOD_FAULT_POINT": STORE_COMMITTED,
        "ALOD_FAULT_AFTER": "2",
        "ALOD_FAULT_MARKER": str(marker),
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(passed)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and _stopped(child.pid)):
            assert child.poll() is None, "exited without stopping"
            assert time.monotonic() < deadline, "never stopped"
            time.sleep(0.01)
        time.sleep(0.05)  # what a thread running on past the point would do meanwhile
        assert passed.read_text() == "0"  # the second pass stopped before noting itself
    finally:
        child.kill()
        child.wait()


def _stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "T"
