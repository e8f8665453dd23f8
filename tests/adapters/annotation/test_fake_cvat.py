"""The fake CVAT answers the recorded CVAT 2.23.1 exchanges as the real server did."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from .fake_cvat import FakeCvat

RECORDING = Path(__file__).parent / "fixtures" / "cvat_2.23.1_exchanges.jsonl"
RECORDED_HOST = "http://127.0.0.1:58080"
#: The recorded server's ids at the start of the scenario, so paths and bodies replay verbatim.
RECORDED_FIRST_IDS = {"user": 3, "task": 2, "job": 2, "label": 3, "shape": 4}
#: Export is not part of the fake (see its docstring): the last two exchanges.
OMITTED = ("/dataset/export", "/api/requests/export")


@pytest.fixture
def fake() -> Iterator[FakeCvat]:
    server = FakeCvat(first_ids=RECORDED_FIRST_IDS).start()
    yield server
    server.stop()


def recorded(fake: FakeCvat) -> list[dict[str, Any]]:
    text = RECORDING.read_text().replace(RECORDED_HOST, fake.url)
    return [json.loads(line) for line in text.splitlines()]


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def normalized(value: Any) -> Any:
    """Dates and secret keys vary from run to run: blank them."""
    if isinstance(value, dict):
        return {
            k: "*" if k.endswith("_date") or k == "key" else normalized(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def send(session: requests.Session, fake: FakeCvat, exchange: dict[str, Any]) -> Any:
    headers = {}
    csrf = session.cookies.get("csrftoken")
    if csrf:
        headers["X-CSRFToken"] = csrf
    kwargs: dict[str, Any] = {"headers": headers}
    body = exchange["request"]
    if isinstance(body, str) and body.startswith("<"):
        headers["Upload-Multiple"] = "true"
        kwargs["files"] = [
            (f"client_files[{i}]", (f"img_{i}.jpg", jpeg(320, 240))) for i in range(3)
        ]
    elif exchange["path"].endswith("/data/") and body is None:
        headers["Upload-Start"] = "true"
    elif exchange["path"].endswith("/data/"):
        headers["Upload-Finish"] = "true"
        kwargs["json"] = body
    elif body is not None:
        kwargs["json"] = body
    return session.request(exchange["method"], fake.url + exchange["path"], timeout=5, **kwargs)


def test_the_fake_replays_the_recorded_protocol(fake: FakeCvat) -> None:
    session = requests.Session()
    replayed = 0
    for exchange in recorded(fake):
        if any(part in exchange["path"] for part in OMITTED):
            continue
        response = send(session, fake, exchange)
        while (
            exchange["path"].startswith("/api/requests/")
            and response.json()["status"] != "finished"
        ):
            response = send(session, fake, exchange)
        assert response.status_code == exchange["status"], exchange["path"]
        answer = response.json() if response.content else None
        assert normalized(answer) == normalized(exchange["response"]), exchange["path"]
        replayed += 1
    assert replayed == 20


def test_unsafe_requests_on_a_session_need_the_csrf_token(fake: FakeCvat) -> None:
    fake.add_user("alice", "pw-123456")
    session = requests.Session()
    session.post(
        f"{fake.url}/api/auth/login", json={"username": "alice", "password": "pw-123456"}, timeout=5
    )
    spec: dict[str, Any] = {"name": "t", "labels": [{"name": "a"}]}
    assert session.post(f"{fake.url}/api/tasks", json=spec, timeout=5).status_code == 403
    headers = {"X-CSRFToken": str(session.cookies["csrftoken"])}
    assert (
        session.post(f"{fake.url}/api/tasks", json=spec, headers=headers, timeout=5).status_code
        == 201
    )
    assert requests.get(f"{fake.url}/api/tasks", timeout=5).status_code == 401


def test_pages_follow_count_next_results(fake: FakeCvat) -> None:
    fake.add_user("alice", "pw-123456")
    key = requests.post(
        f"{fake.url}/api/auth/login", json={"username": "alice", "password": "pw-123456"}, timeout=5
    ).json()["key"]
    headers = {"Authorization": f"Token {key}"}
    for index in range(12):
        spec: dict[str, Any] = {"name": f"t{index}", "labels": [{"name": "a"}]}
        requests.post(f"{fake.url}/api/tasks", json=spec, headers=headers, timeout=5)
    first = requests.get(f"{fake.url}/api/tasks", headers=headers, timeout=5).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (12, 10, None)
    second = requests.get(first["next"], headers=headers, timeout=5).json()
    assert (len(second["results"]), second["next"]) == (2, None)
    beyond = requests.get(f"{fake.url}/api/tasks?page=3", headers=headers, timeout=5)
    assert beyond.status_code == 404
