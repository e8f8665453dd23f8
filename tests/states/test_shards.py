"""Prediction in shards: a driver SIGKILLed mid-prediction resumes without predicting again the
shards it finished, on the local path and on a real local Ray."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.states.shards import cut
from al_object_detection.states.store import RoundStore
from tests.daemon.tiny import load_shapes
from tests.support.fault_points import FaultListener

SCRIPT = Path(__file__).parents[1] / "support" / "shard_child.py"
PREFIX = "predict:tiny:r1"  # as the child cuts them
SHARD_SIZE = 5


def test_shards_cover_the_ids_in_order_with_keys_that_follow_their_content() -> None:
    ids = [f"id{i}" for i in range(12)]
    shards = cut(ids, 5, prefix="p", model_id="m")
    assert [s.ids for s in shards] == [ids[:5], ids[5:10], ids[10:]]
    assert [s.key.rsplit(":", 1)[0] for s in shards] == ["p:s0", "p:s1", "p:s2"]
    assert [s.key for s in cut(ids, 5, prefix="p", model_id="m")] == [s.key for s in shards]
    moved = cut(["new", *ids], 5, prefix="p", model_id="m")
    assert not {s.key for s in moved} & {s.key for s in shards}  # each shard's ids changed
    assert cut(ids, 5, prefix="p", model_id="other")[2].key != shards[2].key


@pytest.fixture
def faults() -> Iterator[FaultListener]:
    listener = FaultListener()
    yield listener
    listener.close()


@pytest.fixture
def ray_tmpdir() -> Iterator[Path]:
    """A short folder of the child's Ray (its sockets' paths must stay short)."""
    folder = Path(tempfile.mkdtemp(prefix="alod-ray-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start_child(args: list[Any], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("a") as err:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), *map(str, args)], stdout=subprocess.PIPE,
            stderr=err, text=True, env={**os.environ, **env}, start_new_session=True,
        )  # fmt: skip


def written_ids(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [sample_id for line in lines for sample_id in json.loads(line)]


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_killed_driver_resumes_without_predicting_finished_shards(
    tmp_path: Path, dataset_name: str, shapes_dir: Path, tiny_weights: Path, fo: Any,
    faults: FaultListener, ray_tmpdir: Path, backend: str,
) -> None:  # fmt: skip
    store = load_shapes(dataset_name, shapes_dir)
    pool = store.ids("pool")
    shards = cut(pool, SHARD_SIZE, prefix=PREFIX, model_id=str(tiny_weights))
    assert len(shards) >= 3
    state, log = tmp_path / "state.sqlite", tmp_path / "child.log"
    written = []
    for run, point in enumerate(("done:0", "written:1", "")):
        out = tmp_path / f"written-{run}.jsonl"
        args = [state, dataset_name, tiny_weights, SHARD_SIZE, backend, out]
        env = {**faults.env(point), "RAY_TMPDIR": str(ray_tmpdir)}
        child = start_child(args, env, log)
        try:
            if point:
                reported = faults.wait(child, timeout_s=300)
                assert reported == point, log.read_text()[-3000:]
            else:
                assert "finished" in child.communicate(timeout=300)[0], log.read_text()[-3000:]
        finally:
            with contextlib.suppress(ProcessLookupError):  # the child and whatever it started
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        written.append(set(written_ids(out)))

    first, second, *rest = (set(shard.ids) for shard in shards)
    assert written[0] == first  # killed once shard 0 was done
    assert written[1] == second  # killed with shard 1 written, its intent not done
    assert written[2] == set().union(*rest)  # neither again; shard 1's images were all written
    store.dataset.reload()  # the children added the prediction fields
    assert store.stale_predictions(pool, str(tiny_weights)) == []
    intents = RoundStore(state).intents(1)
    assert [i["key"] for i in intents] == [shard.key for shard in shards]
    assert all(i["result"] is not None for i in intents)
