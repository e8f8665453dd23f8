"""The fake CVAT answers the recorded CVAT 2.23.1 exchanges as the real server did."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
        kwargs["data"] = {"image_quality": "70"}  # CVAT requires it on every part
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


# --- the negative cases recorded from CVAT 2.23.1 ----------------------------------------------

FULL_RECORDING = Path(__file__).parent / "fixtures" / "cvat_2.23.1_exchanges_full.jsonl"


def recorded_answer(step: str) -> tuple[int, Any]:
    """Status and body the real server gave in the recorded exchange ``step``."""
    for line in FULL_RECORDING.read_text().splitlines():
        exchange = json.loads(line)
        if exchange["step"] == step:
            return exchange["response"]["status"], exchange["response"].get("json")
    raise KeyError(step)


def answer(response: requests.Response) -> tuple[int, Any]:
    return response.status_code, response.json() if response.content else None


class Client:
    """Token requests on the fake, as the recording made them."""

    def __init__(self, fake: FakeCvat) -> None:
        fake.add_user("admin", "pw-123456")
        credentials = {"username": "admin", "password": "pw-123456"}
        key = requests.post(f"{fake.url}/api/auth/login", json=credentials, timeout=5).json()["key"]
        self.url, self.headers = fake.url, {"Authorization": f"Token {key}"}

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=5, **kwargs)

    def new_task(self) -> int:
        spec = {"name": "rec-neg", "labels": [{"name": "a"}], "segment_size": 2}
        return int(self.send("POST", "/api/tasks", json=spec).json()["id"])

    def task_with_images(self) -> int:
        """A task with three images in two jobs, uploaded the way cvat-sdk does."""
        task_id = self.new_task()
        data = f"/api/tasks/{task_id}/data/"
        self.send("POST", data, headers={"Upload-Start": "true"})
        self.send(
            "POST", data, headers={"Upload-Multiple": "true"}, data={"image_quality": "70"},
            files=IMAGES,
        )  # fmt: skip
        self.send("POST", data, headers={"Upload-Finish": "true"}, json={"image_quality": 70})
        self.send("GET", f"/api/tasks/{task_id}")  # the fake makes the jobs on this read
        return task_id


IMAGES = [(f"client_files[{i}]", (f"img_{i}.jpg", jpeg(8, 8))) for i in range(3)]


def test_an_upload_without_image_quality_is_refused_and_leaves_a_task_of_size_0(
    fake: FakeCvat,
) -> None:
    client = Client(fake)
    task_id = client.new_task()
    data = f"/api/tasks/{task_id}/data/"
    start = client.send("POST", data, headers={"Upload-Start": "true"})
    assert (answer(start), start.headers.get("Content-Type")) == ((202, None), None)
    part = client.send("POST", data, headers={"Upload-Multiple": "true"}, files=IMAGES)
    assert answer(part) == recorded_answer("data.neg.upload_multiple_without_image_quality")
    assert part.headers["Content-Type"] == "application/vnd.cvat+json"
    finish = client.send(
        "POST",
        data,
        headers={"Upload-Finish": "true"},
        json={"image_quality": 70, "sorting_method": "lexicographical"},
    )
    assert finish.status_code == 202  # accepted all the same, as the real server does
    request = client.send("GET", f"/api/requests/{quote(finish.json()['rq_id'], safe='')}")
    _, failed = recorded_answer("requests.poll.negative_task")
    assert (request.json()["status"], request.json()["message"]) == ("failed", failed["message"])
    task = client.send("GET", f"/api/tasks/{task_id}").json()
    assert (task["size"], task["jobs"]["count"], task["image_quality"]) == (0, 0, 70)
    jobs = client.send("GET", "/api/jobs", params={"task_id": task_id})
    assert answer(jobs) == recorded_answer("jobs.list_by_task.after_failed_upload")


@pytest.mark.parametrize(
    ("step", "kwargs"),
    [
        ("data.neg2.upload_finish_without_image_quality", {"json": {"sorting_method": "natural"}}),
        ("data.neg2.upload_finish_image_quality_out_of_range", {"json": {"image_quality": 101}}),
        ("data.neg2.upload_finish_form_urlencoded", {"data": {"image_quality": "70"}}),
    ],
)
def test_upload_finish_is_judged_by_the_schema(
    fake: FakeCvat, step: str, kwargs: dict[str, Any]
) -> None:
    client = Client(fake)
    task_id = client.new_task()
    data = f"/api/tasks/{task_id}/data/"
    client.send("POST", data, headers={"Upload-Start": "true"})
    part = client.send(
        "POST",
        data,
        headers={"Upload-Multiple": "true"},
        data={"image_quality": "70"},
        files=IMAGES,
    )
    assert part.status_code == 200
    refused = client.send("POST", data, headers={"Upload-Finish": "true"}, **kwargs)
    assert answer(refused) == recorded_answer(step)
    as_form = client.send(
        "POST", data, headers={"Upload-Finish": "true"}, files={"image_quality": (None, "70")}
    )
    assert as_form.status_code == 202  # a multipart form without files is fine


def test_an_unknown_field_in_a_patch_is_forbidden_and_nothing_is_applied(fake: FakeCvat) -> None:
    client = Client(fake)
    task_id = client.task_with_images()
    job_id = min(fake.jobs)
    patched = client.send(
        "PATCH", f"/api/jobs/{job_id}", json={"state": "in progress", "priority": 5}
    )
    assert answer(patched) == recorded_answer("jobs.patch.unknown_field")
    assert fake.jobs[job_id].state == "new"
    task = client.send("PATCH", f"/api/tasks/{task_id}", json={"name": "x", "colour": "red"})
    assert answer(task) == recorded_answer("tasks.patch.unknown_field")
    invalid = client.send("PATCH", f"/api/jobs/{job_id}", json={"state": "done"})
    assert answer(invalid) == recorded_answer("jobs.patch.neg.invalid_state")


def test_sign_in_refusals_and_exact_paths(fake: FakeCvat) -> None:
    client = Client(fake)
    login = f"{fake.url}/api/auth/login"
    wrong = requests.post(login, json={"username": "admin", "password": "nope"}, timeout=5)
    assert answer(wrong) == recorded_answer("auth.login.wrong_password")
    missing = requests.post(login, json={"username": "admin"}, timeout=5)
    assert answer(missing) == recorded_answer("auth.login.missing_password")
    bad_key = requests.get(f"{fake.url}/api/tasks", headers={"Authorization": "Token x"}, timeout=5)
    assert answer(bad_key) == recorded_answer("auth.bad_token")
    for path in ("/api/tasks/", f"/api/tasks/{client.new_task()}/"):
        page = client.send("GET", path)
        assert (page.status_code, page.headers["Content-Type"]) == (404, "text/html")


def test_annotation_refusals_and_what_cvat_stores_as_sent(fake: FakeCvat) -> None:
    client = Client(fake)
    task_id = client.task_with_images()
    job_id = min(fake.jobs)
    label_id = fake.tasks[task_id].label_ids[0]
    path = f"/api/jobs/{job_id}/annotations/"
    shape = {"type": "rectangle", "frame": 0, "label_id": label_id, "points": [1.0, 2.0, 3.0, 4.0]}
    untyped = {k: v for k, v in shape.items() if k != "type"}
    cases = [
        ({"shapes": [untyped]}, {"action": "create"}, "jobs.annotations.neg.missing_type"),
        ({"shapes": {}}, {}, "jobs.annotations.neg.shapes_not_a_list"),
        ({"shapes": [shape]}, {"action": "upsert"}, "jobs.annotations.neg.bad_action"),
    ]
    for body, params, step in cases:
        method = "PATCH" if params else "PUT"
        assert answer(client.send(method, path, json=body, params=params)) == recorded_answer(step)
    other = client.send("PUT", path, json={"shapes": [dict(shape, label_id=78)]})
    assert answer(other) == (400, ["label_id `78` is invalid"])
    accepted = [
        dict(shape, points=[1.0, 2.0, 3.0]),
        dict(shape, source="robot", confidence=0.5),
        dict(shape, frame=2),  # outside the job's frames 0-1
    ]
    stored = client.send("PUT", path, json={"shapes": accepted, "bogus": 1})
    assert stored.status_code == 200
    assert [(s["points"], s["source"], s["frame"]) for s in stored.json()["shapes"]] == [
        ([1.0, 2.0, 3.0], "manual", 0),
        ([1.0, 2.0, 3.0, 4.0], "robot", 0),
        ([1.0, 2.0, 3.0, 4.0], "manual", 2),
    ]
