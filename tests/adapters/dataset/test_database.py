"""Choosing FiftyOne's database, and refusing one that is not the chosen one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.dataset.database import (
    DatabaseMismatchError,
    DatabaseTarget,
    choose_database,
    mask_password,
)
from al_object_detection.adapters.dataset.mongod import MongoServer
from al_object_detection.project import ProjectConfigError, parse_project_config

SERVER = "mongodb://127.0.0.1:27017"
NO_CONFIG_FILE = {"FIFTYONE_CONFIG_PATH": "/nonexistent/config.json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    mongod = MongoServer(tmp_path_factory.mktemp("mongod"))
    yield mongod
    mongod.stop()


def test_the_project_setting_wins_when_fiftyone_has_none() -> None:
    assert choose_database(uri=f"{SERVER}/trees", environ=NO_CONFIG_FILE) == DatabaseTarget(
        uri=f"{SERVER}/trees", name="trees"
    )
    env = {**NO_CONFIG_FILE, "FIFTYONE_DATABASE_URI": SERVER, "FIFTYONE_DATABASE_NAME": "x"}
    assert choose_database(environ=env) == DatabaseTarget(uri=SERVER, name="x")
    folder = choose_database(directory="db", environ=NO_CONFIG_FILE)
    assert folder == DatabaseTarget(directory=Path("db").resolve(), name="fiftyone")


def test_fiftyone_settings_that_point_elsewhere_are_refused(tmp_path: Path) -> None:
    env = {**NO_CONFIG_FILE, "FIFTYONE_DATABASE_URI": "mongodb://other:27017"}
    with pytest.raises(DatabaseMismatchError, match="FIFTYONE_DATABASE_URI names"):
        choose_database(uri=SERVER, environ=env)
    with pytest.raises(DatabaseMismatchError, match="FiftyOne would use instead"):
        choose_database(directory=tmp_path, environ=env)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"database_uri": "mongodb://u:secret@other:1"}))
    from_file = {"FIFTYONE_CONFIG_PATH": str(config_file)}
    with pytest.raises(DatabaseMismatchError, match="config file") as raised:
        choose_database(uri=SERVER, environ=from_file)
    assert "secret" not in str(raised.value)
    named = {**NO_CONFIG_FILE, "FIFTYONE_DATABASE_NAME": "fiftyone"}
    with pytest.raises(DatabaseMismatchError, match="names database 'trees'"):
        choose_database(uri=f"{SERVER}/trees", environ=named)


def test_alod_toml_takes_a_uri_or_a_folder_not_both() -> None:
    raw: dict[str, Any] = {
        "project": {"name": "p"},
        "dataset": {"name": "d", "database_uri": f"{SERVER}/p"},
        "detector": {"model": "yolov8n.yaml"},
    }
    assert parse_project_config(raw).database_uri == f"{SERVER}/p"
    raw["dataset"]["database_dir"] = "db"
    with pytest.raises(ProjectConfigError, match="exclude each other"):
        parse_project_config(raw)
    raw["dataset"] = {"name": "d", "database_uri": "http://127.0.0.1:27017"}
    with pytest.raises(ProjectConfigError, match="must start with mongodb://"):
        parse_project_config(raw)
    raw["dataset"] = {"name": "d", "database_uri": "mongodb://h:notaport"}
    with pytest.raises(ProjectConfigError, match="not a valid MongoDB URI"):
        parse_project_config(raw)


def test_passwords_are_masked() -> None:
    assert mask_password("mongodb://alod:s3cret@db:27017/p") == "mongodb://alod:***@db:27017/p"
    assert mask_password(SERVER) == SERVER


def test_a_process_never_switches_database(fo: Any) -> None:
    from al_object_detection.adapters.dataset.store import import_fiftyone

    assert import_fiftyone() is fo
    with pytest.raises(DatabaseMismatchError):
        import_fiftyone(database_uri="mongodb://127.0.0.1:1/other")


def test_the_library_path_uses_the_server_of_the_uri(server: MongoServer) -> None:
    uri = f"{server.uri}/library"
    code = (
        "from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone\n"
        f"import_fiftyone(database_uri={uri!r})\n"
        "FiftyOneStore.open('kept', create=True)\n"
    )
    run = _python(code, _without_fiftyone_settings())
    assert run.returncode == 0, run.stderr[-2000:]
    names = server_client(server)["library"]["datasets"].distinct("name")
    assert names == ["kept"]


def test_an_inherited_private_port_is_a_mismatch_not_a_silent_switch(
    server: MongoServer, tmp_path: Path
) -> None:
    # a parent process's own mongod (FiftyOne's private port) against a configured folder
    env = _without_fiftyone_settings()
    env["FIFTYONE_PRIVATE_DATABASE_PORT"] = str(server.port)
    code = (
        "from al_object_detection.adapters.dataset.store import import_fiftyone\n"
        f"import_fiftyone({str(tmp_path / 'mine')!r})\n"
    )
    run = _python(code, env)
    assert run.returncode != 0
    assert "DatabaseMismatchError" in run.stderr
    assert f"FIFTYONE_PRIVATE_DATABASE_PORT={server.port}" in run.stderr


def server_client(server: MongoServer) -> Any:
    from pymongo import MongoClient

    return MongoClient(server.uri, serverSelectionTimeoutMS=10_000)


def _without_fiftyone_settings() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_DATABASE")}
    env.pop("FIFTYONE_PRIVATE_DATABASE_PORT", None)
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
