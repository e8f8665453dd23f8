"""``alod`` writing into a pipe whose reader went away (``alod status | head``) exits quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .tiny import write_project


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_status_into_a_closed_pipe_prints_no_traceback(tmp_path: Path, extra: list[str]) -> None:
    config = write_project(tmp_path, "pipe-data")
    reader, writer = os.pipe()
    os.close(reader)  # every write now fails with EPIPE, whatever the timing
    try:
        done = subprocess.run(
            [sys.executable, "-m", "al_object_detection.cli", "status",
             "--config", str(config), *extra],
            stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 1
