"""Two projects on one host, each in its own database of a MongoDB server the test runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from al_object_detection.adapters.dataset.mongod import MongoServer
from al_object_detection.daemon import exitcodes

from .tiny import write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DATASET = "shapes"  # the same name in both projects: only the database tells them apart
BOOTSTRAP = 6


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MongoServer]:
    mongod = MongoServer(tmp_path / "mongod")
    yield mongod
    mongod.stop()


def test_two_daemons_side_by_side_each_in_its_own_database(
    tmp_path: Path, server: MongoServer, shapes_dir: Path
) -> None:
    configs = {}
    for name in ("alod_a", "alod_b"):
        uri = f"{server.uri}/{name}"
        loaded = _alod("data", "import", str(shapes_dir), "--dataset", DATASET,
                       "--database-uri", uri)  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        configs[name] = _project(tmp_path / name, database_uri=uri)
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in configs}
    daemons = [
        _alod_process("run", "--until-done", "--config", str(config), output=logs[name])
        for name, config in configs.items()
    ]
    for daemon, (name, log) in zip(daemons, logs.items(), strict=True):
        daemon.wait(timeout=600)
        log.close()
        assert daemon.returncode == 0, (tmp_path / f"{name}.log").read_text()[-3000:]

    client = _client(server)
    assert set(client.list_database_names()) - {"admin", "config", "local"} == set(configs)
    pool_size = None
    for name in configs:
        database = client[name]
        assert database["datasets"].distinct("name") == [DATASET]
        samples = database[database["datasets"].find_one()["sample_collection_name"]]
        splits = {s: samples.count_documents({"al_split": s}) for s in ("pool", "labeled")}
        assert splits["labeled"] == BOOTSTRAP  # twice as many would mean a shared dataset
        assert pool_size in (None, splits["pool"])
        pool_size = splits["pool"]


def test_a_database_fiftyone_settings_contradict_stops_the_start(
    tmp_path: Path, server: MongoServer
) -> None:
    config = _project(tmp_path, database_uri=f"{server.uri}/mine")
    env = {"FIFTYONE_DATABASE_URI": "mongodb://127.0.0.1:1"}
    run = _alod("run", "--config", str(config), env=env)
    assert run.returncode == exitcodes.CONFIG, run.stdout[-2000:]
    event = _event(run.stdout, "database_mismatch")
    assert "FIFTYONE_DATABASE_URI names mongodb://127.0.0.1:1" in event["error"]
    assert _client(server).list_database_names() == ["admin", "config", "local"]


def test_a_mongod_already_running_for_the_user_stops_the_start(tmp_path: Path) -> None:
    # another FiftyOne process keeps the per-user mongod of another folder running
    holder = _alod_process(
        "-c",
        "import sys, fiftyone as fo; fo.list_datasets(); print('attached', flush=True); "
        "sys.stdin.read()",
        env={"FIFTYONE_DATABASE_DIR": str(tmp_path / "theirs")},
        python=True,
    )
    try:
        assert holder.stdout is not None
        lines = iter(holder.stdout.readline, "")  # FiftyOne's notices come first
        assert any(line.strip() == "attached" for line in lines)
        config = _project(tmp_path / "project", database_dir=str(tmp_path / "mine"))
        run = _alod("run", "--config", str(config))
        assert run.returncode == exitcodes.CONFIG, run.stdout[-2000:]
        error = _event(run.stdout, "database_mismatch")["error"]
        assert "already running for this user" in error
        assert str(tmp_path / "mine") in error
    finally:
        holder.communicate(timeout=60)


def _project(root: Path, **database: str) -> Path:
    config = write_project(root, DATASET, rounds=0, bootstrap_size=BOOTSTRAP)
    settings = "".join(f'{key} = "{value}"\n' for key, value in database.items())
    text = config.read_text().replace(f'[dataset]\nname = "{DATASET}"\n', "", 1)
    config.write_text(f'[dataset]\nname = "{DATASET}"\n{settings}\n{text}')
    return config


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    """This process's environment without the test run's own database settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_DATABASE")}
    env.pop("FIFTYONE_PRIVATE_DATABASE_PORT", None)
    return {**env, **(extra or {})}


def _alod(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "al_object_detection.cli", *args]
    return subprocess.run(
        command, env=_environment(env), capture_output=True, text=True, timeout=300
    )


def _alod_process(
    *args: str,
    env: dict[str, str] | None = None,
    python: bool = False,
    output: IO[str] | None = None,
) -> subprocess.Popen[str]:
    prefix = [sys.executable] if python else [sys.executable, "-m", "al_object_detection.cli"]
    return subprocess.Popen(
        [*prefix, *args],
        env=_environment(env),
        stdin=subprocess.PIPE,
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _event(stdout: str, name: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("{") and json.loads(line).get("event") == name:
            event: dict[str, Any] = json.loads(line)
            return event
    raise AssertionError(f"no {name!r} event in:\n{stdout[-2000:]}")


def _client(server: MongoServer) -> Any:
    from pymongo import MongoClient

    return MongoClient(server.uri, serverSelectionTimeoutMS=10_000)
