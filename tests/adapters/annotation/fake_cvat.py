"""A fake CVAT server for tests: stdlib ``http.server`` on 127.0.0.1 (port 0), in a thread.

Every request is first judged by CVAT 2.23.1's own OpenAPI schema (``cvat_schema.py``, with
openapi-core): an unknown path, a missing or invalid field (``image_quality`` on an upload), a
wrong media type or an unknown PATCH field gets the real server's refusal, and nothing happens.
``operations`` lists the schema operation (``operationId``) each request was validated against;
the fake's own successful answers are checked against the schema too (``response_errors``).

It follows the protocol recorded from a real CVAT 2.23.1 (``fixtures/cvat_2.23.1_exchanges.jsonl``,
replayed against it in ``test_fake_cvat.py``, and the negative cases of
``fixtures/cvat_2.23.1_exchanges_full.jsonl``): the same paths, bodies and status codes;
``count/next/results`` pages (``page``, ``page_size``, 10 by default, "Invalid page." past the
end); ``POST /api/auth/login`` answering a ``key`` and setting ``sessionid``/``csrftoken``
cookies, a session needing ``X-CSRFToken`` on unsafe methods, ``Authorization: Token <key>``
or ``Bearer <access token>`` headers, 401 without; the three-step data upload
(``Upload-Start``, ``Upload-Multiple`` parts, ``Upload-Finish``) answered by an ``rq_id`` that
``/api/requests/{rq_id}`` reports as started, then finished (jobs exist from then on), frames
sorted by name; a finish after no image arrived is accepted and its request then fails with
"No media data found", leaving a task of size 0 without jobs, as the real server does; job
``state``/``stage`` changed by ``PATCH`` (a new stage resets the state).
With ``version`` below 2.18 it behaves like servers before the requests API: ``Upload-Finish``
answers no ``rq_id`` and the task gets its images on the next read.

It is a fake. It omits organizations, projects, permissions (any signed-in user may do
anything), image bytes (only names and sizes are kept), chunks and previews, tracks and tags
(accepted and echoed only), the ``filter``/``search``/``sort`` languages (only equality on
``name`` and ``task_id``), export/import, webhooks, issues and comments.

Test hooks: :meth:`FakeCvat.inject` (a status such as 503, or a delay past the client's
timeout, for the next matching requests), :meth:`fail_next_creation` (the upload's request
fails), :meth:`stop`/:meth:`start` (down, then up on the same port), :meth:`expire_sessions`
(every key and session becomes invalid: 401), :meth:`delete_frame` (an image deleted in CVAT's
UI), :meth:`add_access_token`; ``calls`` lists ``(method, path)`` of every request received.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from PIL import Image

from .cvat_schema import SchemaRequest, cvat_schema

ABOUT_DESCRIPTION = (
    "CVAT is completely re-designed and re-implemented version of Video Annotation Tool from "
    "Irvine, California tool. It is free, online, interactive video and image annotation tool "
    "for computer vision. It is being used by our team to annotate million of objects with "
    "different properties. Many UI and UX decisions are based on feedbacks from professional "
    "data annotation team."
)
JSON_TYPE = "application/vnd.cvat+json"
NO_REQUEST = "There is no request with specified id"
COLORS = ("#2080c0", "#c06060", "#60c060", "#c0c020", "#a040c0")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
Answer = tuple[int, Any, list[tuple[str, str]]]


class HttpError(Exception):
    """An error answer: status and JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


@dataclass
class Fault:
    """What the next ``times`` requests matching ``method`` and ``path`` get."""

    method: str
    path: re.Pattern[str]
    status: int | None
    delay_s: float
    times: int


@dataclass
class Task:
    id: int
    name: str
    owner: str
    label_ids: list[int]
    segment_size: int
    created: str
    updated: str
    uploaded: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    job_ids: list[int] = field(default_factory=list)
    deleted_frames: set[int] = field(default_factory=set)
    image_quality: int = 0
    pending: bool = False
    data_attached: bool = False  # an upload finished (even one that failed)


@dataclass
class Job:
    id: int
    task_id: int
    start: int
    stop: int
    created: str
    updated: str
    state: str = "new"
    stage: str = "annotation"
    assignee: str | None = None
    shapes: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeCvat:
    """The fake server; ``url`` is its base URL once started."""

    def __init__(self, version: str = "2.23.1", first_ids: dict[str, int] | None = None) -> None:
        self.version = version
        starts = {"user": 1, "task": 1, "job": 1, "label": 1, "shape": 1, **(first_ids or {})}
        self._ids = {kind: itertools.count(start) for kind, start in starts.items()}
        self.users: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.sessions: dict[str, tuple[str, str]] = {}
        self.access_tokens: dict[str, str] = {}
        self.tasks: dict[int, Task] = {}
        self.jobs: dict[int, Job] = {}
        self.labels: dict[int, dict[str, Any]] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self._creation_failures: list[str] = []
        self.calls: list[tuple[str, str]] = []
        #: (method, path, operationId of the schema operation it was validated against)
        self.operations: list[tuple[str, str, str | None]] = []
        #: where the fake's own successful answers departed from the schema (should be none)
        self.response_errors: list[str] = []
        self.lock = threading.RLock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle and test hooks -------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeCvat:
        """Serve (again, on the same port once it has one)."""
        server = _Server(("127.0.0.1", self.port), _handler_for(self))
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: connections are refused until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_user(self, username: str, password: str) -> int:
        with self.lock:
            user_id = next(self._ids["user"])
            self.users[username] = {
                "id": user_id,
                "username": username,
                "password": password,
                "email": f"{username}@example.com",
                "first_name": username.capitalize(),
                "last_name": "",
            }
            return user_id

    def add_access_token(self, username: str) -> str:
        """A personal access token for ``username`` (sent as ``Bearer``)."""
        token = secrets.token_urlsafe(24)
        self.access_tokens[token] = username
        return token

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        delay_s: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests matching get ``status`` (and do nothing) or wait first."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path), status, delay_s, times))

    def expire_sessions(self) -> None:
        with self.lock:
            self.keys.clear()
            self.sessions.clear()

    def fail_next_creation(self, message: str) -> None:
        """The next finished upload's request fails with ``message`` (media it cannot read)."""
        with self.lock:
            self._creation_failures.append(message)

    def delete_frame(self, task_id: int, frame: int) -> None:
        with self.lock:
            self.tasks[task_id].deleted_frames.add(frame)

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and the ``path`` pattern."""
        pattern = re.compile(path)
        return sum(1 for m, p in self.calls if m == method and pattern.fullmatch(p))

    # --- request handling ---------------------------------------------------------------

    def handle(self, request: _Request) -> Answer:
        self.calls.append((request.method, request.path))
        fault = self._take_fault(request)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.status is not None:
            return fault.status, f"<h1>Error {fault.status}</h1>", []
        verdict = cvat_schema().judge(request.for_schema(self.url))
        with self.lock:
            self.operations.append((request.method, request.path, verdict.operation_id))
        if verdict.refused:
            return verdict.status, verdict.body, []  # type: ignore[return-value]
        answer = self._route(request)
        errors = cvat_schema().response_errors(request.for_schema(self.url), *answer[:2])
        with self.lock:
            self.response_errors += errors
        return answer

    def _route(self, request: _Request) -> Answer:
        for method, pattern, action, needs_user in self._routes():
            match = re.fullmatch(pattern, request.path)
            if method == request.method and match:
                with self.lock:
                    try:
                        user = self._authenticate(request) if needs_user else ""
                        return action(request, user, *match.groups())
                    except HttpError as error:
                        return error.status, error.body, []
        return 404, {"detail": "Not found."}, []

    def _take_fault(self, request: _Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == request.method and fault.path.search(request.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _routes(self) -> list[tuple[str, str, Callable[..., Answer], bool]]:
        return [
            ("POST", r"/api/auth/register/?", self._register, False),
            ("POST", r"/api/auth/login/?", self._login, False),
            ("GET", r"/api/server/about/?", self._about, False),
            ("GET", r"/api/tasks/?", self._list_tasks, True),
            ("POST", r"/api/tasks/?", self._create_task, True),
            ("GET", r"/api/tasks/(\d+)/?", self._get_task, True),
            ("DELETE", r"/api/tasks/(\d+)/?", self._delete_task, True),
            ("POST", r"/api/tasks/(\d+)/data/?", self._task_data, True),
            ("GET", r"/api/requests/([^/]+)/?", self._get_request, True),
            ("GET", r"/api/labels/?", self._list_labels, True),
            ("GET", r"/api/jobs/?", self._list_jobs, True),
            ("GET", r"/api/jobs/(\d+)/?", self._get_job, True),
            ("PATCH", r"/api/jobs/(\d+)/?", self._patch_job, True),
            ("GET", r"/api/jobs/(\d+)/data/meta/?", self._job_meta, True),
            ("GET", r"/api/jobs/(\d+)/annotations/?", self._get_annotations, True),
            ("PUT", r"/api/jobs/(\d+)/annotations/?", self._put_annotations, True),
        ]

    def _authenticate(self, request: _Request) -> str:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Token":
            if value not in self.keys:
                raise HttpError(401, {"detail": "Invalid token."})
            return self.keys[value]
        if scheme == "Bearer":
            if value not in self.access_tokens:
                raise HttpError(401, {"detail": "Invalid token."})
            return self.access_tokens[value]
        session = self.sessions.get(request.cookies.get("sessionid", ""))
        if session is None:
            raise HttpError(401, {"detail": "Authentication credentials were not provided."})
        username, csrf = session
        if request.method in UNSAFE and request.headers.get("X-CSRFToken") != csrf:
            raise HttpError(403, {"detail": "CSRF Failed: CSRF token missing or incorrect."})
        return username

    # --- auth and server -----------------------------------------------------------------

    def _register(self, request: _Request, _user: str) -> Answer:
        body = request.json()
        if body["username"] in self.users or body["password1"] != body["password2"]:
            raise HttpError(400, {"username": ["A user with that username already exists."]})
        self.add_user(body["username"], body["password1"])
        user = self.users[body["username"]]
        user.update(email=body["email"], first_name=body["first_name"], last_name=body["last_name"])
        key = self._new_key(body["username"])
        fields = ("username", "email", "first_name", "last_name")
        answer = {**{f: user[f] for f in fields}, "email_verification_required": False, "key": key}
        return 201, answer, []

    def _login(self, request: _Request, _user: str) -> Answer:
        body = request.json()
        user = self.users.get(body.get("username", ""))
        if user is None or user["password"] != body.get("password"):
            raise HttpError(
                400, {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        session, csrf = secrets.token_hex(16), secrets.token_hex(16)
        self.sessions[session] = (user["username"], csrf)
        cookies = [
            ("Set-Cookie", f"csrftoken={csrf}; Path=/; SameSite=Lax"),
            ("Set-Cookie", f"sessionid={session}; HttpOnly; Path=/; SameSite=Lax"),
        ]
        return 200, {"key": self._new_key(user["username"])}, cookies

    def _new_key(self, username: str) -> str:
        key = secrets.token_hex(20)
        self.keys[key] = username
        return key

    def _about(self, _request: _Request, _user: str) -> Answer:
        body = {
            "name": "Computer Vision Annotation Tool",
            "description": ABOUT_DESCRIPTION,
            "version": self.version,
        }
        return 200, body, []

    # --- tasks ---------------------------------------------------------------------------

    def _list_tasks(self, request: _Request, _user: str) -> Answer:
        name = request.query.get("name")
        tasks = [t for t in self.tasks.values() if name is None or t.name == name]
        for task in tasks:
            if task.pending:
                self._make_jobs(task)
        return 200, self._page(request, [self._task_json(t) for t in tasks]), []

    def _create_task(self, request: _Request, user: str) -> Answer:
        body = request.json()
        if not body.get("name") or not body.get("labels"):
            raise HttpError(400, {"name": ["This field is required."]})
        task_id, now = next(self._ids["task"]), _now()
        task = Task(task_id, body["name"], user, [], int(body.get("segment_size", 0)), now, now)
        for index, label in enumerate(body["labels"]):
            label_id = next(self._ids["label"])
            self.labels[label_id] = {
                "id": label_id,
                "name": label["name"],
                "color": COLORS[index % len(COLORS)],
                "attributes": [],
                "type": "any",
                "sublabels": [],
                "task_id": task_id,
                "parent_id": None,
                "has_parent": False,
            }
            task.label_ids.append(label_id)
        self.tasks[task_id] = task
        return 201, self._task_json(task), []

    def _get_task(self, _request: _Request, _user: str, task_id: str) -> Answer:
        task = self._task(task_id)
        if task.pending:
            self._make_jobs(task)
        return 200, self._task_json(task), []

    def _delete_task(self, _request: _Request, _user: str, task_id: str) -> Answer:
        task = self._task(task_id)
        for job_id in task.job_ids:
            del self.jobs[job_id]
        for label_id in task.label_ids:
            del self.labels[label_id]
        del self.tasks[task.id]
        return 204, None, []

    def _task_data(self, request: _Request, _user: str, task_id: str) -> Answer:
        task = self._task(task_id)
        if task.frames or task.pending or task.data_attached:
            raise HttpError(400, ["Adding more data is not supported"])
        if request.headers.get("Upload-Start"):
            task.uploaded.clear()
            return 202, None, []
        if request.headers.get("Upload-Multiple"):
            for name, content in request.files():
                width, height = Image.open(io.BytesIO(content)).size
                task.uploaded.append({"name": name, "width": width, "height": height})
            return 200, None, []
        if request.headers.get("Upload-Finish"):
            task.image_quality = int(request.fields()["image_quality"])
            task.data_attached = True
            failure = "" if task.uploaded else "ValueError: No media data found\n"
            if self._creation_failures:
                failure = self._creation_failures.pop(0)
            task.pending = not failure  # accepted all the same; the request fails
            if self.version_below(2, 18):
                return 202, None, []
            rq_id = f"create:task-{task.id}"
            self.requests[rq_id] = {
                "task_id": task.id, "checks": 0, "created": _now(), "failure": failure,
            }  # fmt: skip
            return 202, {"rq_id": rq_id}, []
        raise HttpError(400, ["Only the Upload-* protocol is supported by this fake"])

    def _get_request(self, _request: _Request, user: str, rq_id: str) -> Answer:
        rq_id = unquote(rq_id)
        if rq_id not in self.requests or self.version_below(2, 18):
            raise HttpError(404, NO_REQUEST)
        record = self.requests[rq_id]
        record["checks"] += 1
        task = self.tasks.get(record["task_id"])
        if record["checks"] >= 2 and task is not None and task.pending:
            self._make_jobs(task)
        finished = task is None or not task.pending
        status = "failed" if record["failure"] else "finished" if finished else "started"
        body = {
            "status": status,
            "message": record["failure"],
            "id": rq_id,
            "operation": {
                "type": "create:task",
                "target": "task",
                "project_id": None,
                "task_id": record["task_id"],
                "job_id": None,
                "format": None,
                "function_id": None,
            },
            "progress": 0.0,
            "created_date": record["created"],
            "started_date": record["created"],
            "finished_date": _now() if finished else None,
            "expiry_date": _now(),
            "owner": {"id": self.users[user]["id"], "username": user},
            "result_url": None,
            "result_id": None,
        }
        return 200, body, []

    def _make_jobs(self, task: Task) -> None:
        task.frames = sorted(task.uploaded, key=lambda frame: str(frame["name"]))
        task.pending = False
        task.segment_size = task.segment_size or len(task.frames)
        now = _now()
        for start in range(0, len(task.frames), task.segment_size):
            stop = min(start + task.segment_size, len(task.frames)) - 1
            job = Job(next(self._ids["job"]), task.id, start, stop, now, now)
            self.jobs[job.id] = job
            task.job_ids.append(job.id)
        task.updated = now

    # --- labels and jobs -----------------------------------------------------------------

    def _list_labels(self, request: _Request, _user: str) -> Answer:
        task = self._task(request.query.get("task_id", "0"))
        return 200, self._page(request, [self.labels[i] for i in task.label_ids]), []

    def _list_jobs(self, request: _Request, _user: str) -> Answer:
        task_id = request.query.get("task_id")
        jobs = [j for j in self.jobs.values() if task_id is None or str(j.task_id) == task_id]
        return 200, self._page(request, [self._job_json(j) for j in jobs]), []

    def _get_job(self, _request: _Request, _user: str, job_id: str) -> Answer:
        return 200, self._job_json(self._job(job_id)), []

    def _patch_job(self, request: _Request, _user: str, job_id: str) -> Answer:
        job, body = self._job(job_id), request.json()
        states = ("new", "in progress", "completed", "rejected")
        stages = ("annotation", "validation", "acceptance")
        if body.get("state", job.state) not in states or body.get("stage", job.stage) not in stages:
            raise HttpError(400, {"state": ["Not a valid choice."]})
        if "stage" in body and body["stage"] != job.stage:
            job.stage, job.state = body["stage"], "new"
        job.state = body.get("state", job.state)
        if "assignee" in body:
            job.assignee = self._username(body["assignee"])
        job.updated = _now()
        self.tasks[job.task_id].updated = job.updated
        return 200, self._job_json(job), []

    def _job_meta(self, _request: _Request, _user: str, job_id: str) -> Answer:
        job = self._job(job_id)
        task = self.tasks[job.task_id]
        frames = task.frames[job.start : job.stop + 1]
        body = {
            "chunks_updated_date": job.created,
            "chunk_size": 72,
            "size": len(frames),
            "image_quality": task.image_quality,
            "start_frame": job.start,
            "stop_frame": job.stop,
            "frame_filter": "",
            "frames": [
                {**frame, "related_files": 0, "has_related_context": False} for frame in frames
            ],
            "deleted_frames": sorted(f for f in task.deleted_frames if job.start <= f <= job.stop),
            "included_frames": None,
        }
        return 200, body, []

    def _get_annotations(self, _request: _Request, _user: str, job_id: str) -> Answer:
        job = self._job(job_id)
        return 200, {"version": 0, "tags": [], "shapes": job.shapes, "tracks": []}, []

    def _put_annotations(self, request: _Request, _user: str, job_id: str) -> Answer:
        job, body = self._job(job_id), request.json()
        task = self.tasks[job.task_id]
        shapes = []
        for shape in body.get("shapes", []):
            # like CVAT: any frame and any number of points are stored as sent; labels are checked
            if shape["label_id"] not in task.label_ids:
                raise HttpError(400, [f"label_id `{shape['label_id']}` is invalid"])
            shapes.append(
                {
                    "id": next(self._ids["shape"]),
                    "label_id": shape["label_id"],
                    "type": shape.get("type", "rectangle"),
                    "frame": shape["frame"],
                    "group": shape.get("group"),
                    "source": shape.get("source", "manual"),
                    "occluded": shape.get("occluded", False),
                    "outside": shape.get("outside", False),
                    "z_order": shape.get("z_order", 0),
                    "rotation": float(shape.get("rotation", 0.0)),
                    "points": [float(p) for p in shape["points"]],
                    "attributes": shape.get("attributes", []),
                    "elements": [],
                }
            )
        job.shapes = shapes
        job.updated = _now()
        return 200, {"version": 0, "tags": [], "shapes": shapes, "tracks": []}, []

    # --- JSON views ----------------------------------------------------------------------

    def _task_json(self, task: Task) -> dict[str, Any]:
        base = f"{self.url}/api"
        jobs = [self.jobs[i] for i in task.job_ids]
        done = sum(1 for j in jobs if j.state == "completed")
        body: dict[str, Any] = {
            "url": f"{base}/tasks/{task.id}",
            "id": task.id,
            "name": task.name,
            "project_id": None,
            "mode": "annotation" if task.frames else "",
            "owner": self._user_json(task.owner),
            "assignee": None,
            "bug_tracker": "",
            "created_date": task.created,
            "updated_date": task.updated,
            "overlap": 0 if task.frames else None,
            "segment_size": task.segment_size,
            "status": "completed" if jobs and done == len(jobs) else "annotation",
            "guide_id": None,
            "dimension": "2d",
            "subset": "",
            "organization": None,
            "target_storage": None,
            "source_storage": None,
            "jobs": {
                "count": len(jobs),
                "completed": done,
                "validation": sum(1 for j in jobs if j.stage == "validation"),
                "url": f"{base}/jobs?task_id={task.id}",
            },
            "labels": {"url": f"{base}/labels?task_id={task.id}"},
            "assignee_updated_date": None,
            "validation_mode": None,
        }
        if task.data_attached:
            body.update(
                data_chunk_size=72 if task.frames else None,
                data_compressed_chunk_type="imageset",
                data_original_chunk_type="imageset",
                size=len(task.frames),
                image_quality=task.image_quality,
                data=task.id,
            )
        return body

    def _job_json(self, job: Job) -> dict[str, Any]:
        base = f"{self.url}/api"
        finished = job.state == "completed" and job.stage == "acceptance"
        return {
            "url": f"{base}/jobs/{job.id}",
            "id": job.id,
            "task_id": job.task_id,
            "project_id": None,
            "assignee": self._user_json(job.assignee) if job.assignee else None,
            "guide_id": None,
            "dimension": "2d",
            "bug_tracker": None,
            "status": "completed" if finished else job.stage,
            "stage": job.stage,
            "state": job.state,
            "mode": "annotation",
            "frame_count": job.stop - job.start + 1,
            "start_frame": job.start,
            "stop_frame": job.stop,
            "data_chunk_size": 72,
            "data_compressed_chunk_type": "imageset",
            "data_original_chunk_type": "imageset",
            "created_date": job.created,
            "updated_date": job.updated,
            "issues": {"url": f"{base}/issues?job_id={job.id}", "count": 0},
            "labels": {"url": f"{base}/labels?job_id={job.id}"},
            "type": "annotation",
            "organization": None,
            "target_storage": None,
            "source_storage": None,
            "assignee_updated_date": None,
        }

    def _user_json(self, username: str) -> dict[str, Any]:
        user = self.users[username]
        return {
            "url": f"{self.url}/api/users/{user['id']}",
            "id": user["id"],
            "username": username,
            "first_name": user["first_name"],
            "last_name": user["last_name"],
        }

    def _page(self, request: _Request, items: list[Any]) -> dict[str, Any]:
        page, size = int(request.query.get("page", 1)), int(request.query.get("page_size", 10))
        if page < 1 or (page > 1 and (page - 1) * size >= len(items)):
            raise HttpError(404, {"detail": "Invalid page."})

        def link(number: int) -> str | None:
            if number < 1 or (number - 1) * size >= len(items):
                return None
            query = {**request.query, "page": str(number)}
            return f"{self.url}{request.path}?{urlencode(sorted(query.items()))}"

        return {
            "count": len(items),
            "next": link(page + 1),
            "previous": link(page - 1),
            "results": items[(page - 1) * size : page * size],
        }

    # --- lookups -------------------------------------------------------------------------

    def version_below(self, major: int, minor: int) -> bool:
        found = tuple(int(v) for v in self.version.split(".")[:2])
        return found < (major, minor)

    def _task(self, task_id: str) -> Task:
        task = self.tasks.get(int(task_id))
        if task is None:
            raise HttpError(404, {"detail": "No Task matches the given query."})
        return task

    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(int(job_id))
        if job is None:
            raise HttpError(404, {"detail": "No Job matches the given query."})
        return job

    def _username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        for user in self.users.values():
            if user["id"] == user_id:
                return str(user["username"])
        raise HttpError(400, {"assignee": ["Invalid pk - object does not exist."]})


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def for_schema(self, host_url: str) -> SchemaRequest:
        """This request as the schema validator reads it."""
        return SchemaRequest(
            host_url, self.method.lower(), self.path, self.query, self.headers, self.cookies,
            self.body, self.content_type,
        )  # fmt: skip

    def fields(self) -> dict[str, Any]:
        """The body's fields: JSON, or the text parts of a multipart form."""
        if not self.content_type.startswith("multipart/"):
            return dict(self.json())
        return {
            str(part.get_param("name", header="content-disposition")): part.get_content()
            for part in self._parts()
            if part.get_filename() is None
        }

    def _parts(self) -> list[Any]:
        header = f"Content-Type: {self.content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + self.body)
        return list(message.iter_parts())

    def files(self) -> list[tuple[str, bytes]]:
        """``client_files[i]`` parts of a multipart body, as (file name, bytes)."""
        found = []
        for part in self._parts():
            name = part.get_param("name", header="content-disposition")
            if str(name).startswith("client_files["):
                found.append((str(part.get_filename()), bytes(part.get_payload(decode=True))))
        return found


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) is expected here: nothing to report."""


def _handler_for(fake: FakeCvat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            cookies = {}
            for item in self.headers.get("Cookie", "").split(";"):
                key, _, value = item.strip().partition("=")
                cookies[key] = value
            request = _Request(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers=dict(self.headers.items()),
                cookies=cookies,
                content_type=self.headers.get("Content-Type", ""),
                body=self.rfile.read(length) if length else b"",
            )
            status, body, extra = fake.handle(request)
            payload = (
                b""
                if body is None
                else body.encode()
                if isinstance(body, str)
                else json.dumps(body).encode()
            )
            self.send_response(status)
            if body is not None:  # like CVAT: no body, no Content-Type
                kind = "text/html" if isinstance(body, str) else JSON_TYPE
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

    return Handler
