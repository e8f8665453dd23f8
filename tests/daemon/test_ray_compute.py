"""A project with ``[compute] backend = "ray"``: the daemon's worker predicts the pool on a local
Ray, in shards recorded as intents, and the round completes as on the local path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.states.store import RoundStore

from .tiny import load_shapes, write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_a_round_predicts_its_pool_on_ray_in_shards(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    store = load_shapes(fresh_dataset, shapes_dir)
    compute = {"backend": "ray", "num_cpus": 1, "batch_size": 4, "shard_size": 8}
    config = write_project(tmp_path, fresh_dataset, sections={"compute": compute})
    ray_dir = Path(tempfile.mkdtemp(prefix="alod-ray-"))  # short: Ray's socket paths
    try:
        done = subprocess.run(
            [sys.executable, "-m", "al_object_detection.cli", "run", "--until-done",
             "--config", str(config)],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "RAY_TMPDIR": str(ray_dir)},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert list(ray_dir.glob("ray/session_*")), "no Ray was started"
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    rounds = RoundStore(tmp_path / "state" / "tiny.sqlite")
    assert [r.state for r in rounds.rounds()] == ["completed", "completed"]
    shards = [i for i in rounds.intents(1) if i["kind"] == "predict"]
    store.reload()
    predicted = len(store.ids("pool")) + len(store.ids("labeled"))  # as when round 1 began
    sizes = [i["payload"]["images"] for i in shards]
    assert sum(sizes) == predicted
    assert sizes[:-1] == [8] * (len(sizes) - 1)
    assert all(i["result"] is not None for i in shards)
