"""No secret is stored or shown: SQLite files, status, metrics, logs, and the settings' repr."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.credentials import SecretSource, without_userinfo
from al_object_detection.adapters.annotation.cvat.annotator import CvatSettings
from al_object_detection.adapters.annotation.label_studio.annotator import LabelStudioSettings
from al_object_detection.daemon.daemondb import SNAPSHOT, DaemonDB
from al_object_detection.daemon.redact import MASK, Redactor, secret_values
from al_object_detection.states.store import RoundStore

from .tiny import load_shapes, write_project


def test_secrets_come_from_dotenv_and_from_the_userinfo_of_any_url(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("FIFTYONE_CVAT_URL=http://bob:in-the-url@cvat\nMY_TOKEN='dotenv-token'\n")
    env = {"HTTPS_PROXY": "http://p:proxy-pass@proxy:3128", "HOME": "/home/x"}
    assert secret_values(env, dotenv) == {"in-the-url", "dotenv-token", "proxy-pass"}


def test_the_round_store_redacts_errors_and_reasons(tmp_path: Path) -> None:
    rounds = RoundStore(tmp_path / "p.sqlite", redactor=Redactor({"hunter22"}))
    rounds.open_round(0, 4, actor="test")
    error = "HTTP 400 from http://u:pw-in-url@cvat/api: bad password hunter22"
    rounds.fire(0, "fail", actor="test", reason=error)
    rounds.force(0, "pending", actor="test", reason="hunter22 was wrong")
    rounds.update(0, last_error="again hunter22")
    assert rounds.get(0).last_error == f"again {MASK}"
    reasons = [t.reason for t in rounds.transitions()]
    assert reasons[1] == f"HTTP 400 from http://{MASK}@cvat/api: bad password {MASK}"
    assert reasons[2] == f"forced: {MASK} was wrong"
    rounds.close()
    stored = _all_bytes(tmp_path)
    assert b"hunter22" not in stored
    assert b"pw-in-url" not in stored


def test_the_daemon_file_redacts_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIFTYONE_CVAT_PASSWORD", "hunter22")
    daemon = DaemonDB(tmp_path / "p.daemon.sqlite")
    daemon.put(SNAPSHOT, {"last_error": "refused hunter22", "counts": {"pool": 3}})
    assert daemon.get(SNAPSHOT) == {"last_error": f"refused {MASK}", "counts": {"pool": 3}}
    daemon.close()
    assert b"hunter22" not in _all_bytes(tmp_path)


def test_settings_and_credentials_print_no_secret_in_repr(tmp_path: Path) -> None:
    url = "http://bob:url-secret@cvat.example"
    shown = [
        CvatSettings(url=url, username="bob", password="pw-secret", token="token-secret"),
        LabelStudioSettings(url=url, api_key="key-secret", document_root=tmp_path),
        SecretSource.default(environ={"FIFTYONE_CVAT_PASSWORD": "env-secret"}),
        Redactor({"redactor-secret"}),
    ]
    text = " ".join(repr(item) for item in shown)
    assert "bob" in text
    for secret in ("url-secret", "pw-secret", "token-secret", "key-secret", "env-secret"):
        assert secret not in text
    assert "redactor-secret" not in text


def test_links_drop_the_userinfo() -> None:
    assert without_userinfo("https://bob:pw@cvat.example:8080/x") == "https://cvat.example:8080/x"
    assert without_userinfo("https://cvat.example") == "https://cvat.example"


# -- a daemon run against an annotation server that echoes every secret ----------------------


class _Echo(BaseHTTPRequestHandler):
    """Refuses every request with 400 and a body that repeats the planted secrets."""

    planted: tuple[str, ...] = ()

    def _refuse(self) -> None:
        body = ("bad request; you sent " + " ".join(self.planted)).encode()
        self.send_response(400)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _refuse  # noqa: N815 -- http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def planted() -> dict[str, str]:
    return {where: f"{where}-{secrets.token_hex(8)}" for where in ("env", "dotenv", "cred", "url")}


@pytest.fixture
def echo_server(planted: dict[str, str]) -> Iterator[int]:
    handler = type("Echo", (_Echo,), {"planted": tuple(planted.values())})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.integration
def test_a_failing_annotation_server_leaks_no_secret_anywhere(
    tmp_path: Path,
    fresh_dataset: str,
    shapes_dir: Path,
    fo: Any,
    planted: dict[str, str],
    echo_server: int,
) -> None:
    load_shapes(fresh_dataset, shapes_dir)
    project = tmp_path / "project"
    config = write_project(project, fresh_dataset)
    text = config.read_text().replace('backend = "oracle"', 'backend = "cvat"\nmax_attempts = 1')
    config.write_text(text)
    (project / ".env").write_text(
        f"FIFTYONE_CVAT_URL=http://alod:{planted['url']}@127.0.0.1:{echo_server}\n"
        f"FIFTYONE_LABELSTUDIO_API_KEY={planted['dotenv']}\n"
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "FIFTYONE_CVAT_TOKEN").write_text(planted["cred"] + "\n")
    env = dict(os.environ, FIFTYONE_CVAT_PASSWORD=planted["env"])
    env["CREDENTIALS_DIRECTORY"] = str(credentials)

    def alod(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "al_object_detection.cli", *args]
        return subprocess.run(
            [*command, "--config", str(config)],
            cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    run = alod("run", "--until-done")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]  # the round failed
    status, status_json = alod("status"), alod("status", "--json")
    assert status.returncode == status_json.returncode == 0

    # the server's answer reached the state file, masked
    current = json.loads(status_json.stdout)["round"]
    assert (current["state"], current["failed_in"]) == ("failed", "annotating")
    assert "HTTP 400" in current["last_error"]
    assert f"http://{MASK}@127.0.0.1" in current["last_error"]
    assert current["last_error"].count(MASK) >= 5
    assert "last error: AnnotationConfigError" in status.stdout
    state_dir = project / "state"
    assert (state_dir / "tiny.prom").is_file()
    assert (state_dir / "tiny.log.jsonl").is_file()

    shown = {
        "log stream": run.stdout + run.stderr,
        "alod status": status.stdout + status.stderr,
        "alod status --json": status_json.stdout + status_json.stderr,
    }
    for secret in planted.values():
        for where, output in shown.items():
            assert secret not in output, f"{secret} in {where}"
        for path in state_dir.rglob("*"):  # the SQLite files (and WAL), metrics, log copy
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{secret} in {path}"


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
