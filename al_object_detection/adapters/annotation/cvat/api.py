"""The few CVAT REST endpoints the CVAT adapter uses, as plain HTTP (CVAT 2.4 and later).

Signing in: a personal access token (``Authorization: Bearer``, CVAT >= 2.48; a value that
already starts with a scheme, e.g. ``Token <key>``, is sent as is), or a username and password
(``POST /api/auth/login``, then the session cookie and its CSRF token, as CVAT's own UI does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import structlog

from al_object_detection.adapters.annotation.http import HttpClient, RetryPolicy
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationCredentialsError,
)

log = structlog.get_logger()

MIN_VERSION = (2, 4)
_UPLOAD_GROUP_BYTES = 32 * 1024 * 1024
_UPLOAD_GROUP_FILES = 200


class CvatApi:
    """Typed calls on one CVAT server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        username: str | None,
        password: str | None,
        token: str | None,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        uniform: Callable[[], float],
    ) -> CvatApi:
        """A client for ``url``; nothing is sent before the first call."""
        http = HttpClient(
            url,
            retry,
            authenticate=_sign_in(username, password, token),
            sleep=sleep,
            uniform=uniform,
        )
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        http.session.headers.update({"Origin": origin, "Referer": origin + "/"})
        return cls(http)

    def check_version(self) -> str:
        """The server's version; an error when it is older than the adapter supports."""
        version = str(self.http.json("GET", "/api/server/about").get("version", ""))
        match = re.match(r"(\d+)\.(\d+)", version)
        if match is None:
            log.warning("cvat_version_unknown", version=version)
        elif (int(match[1]), int(match[2])) < MIN_VERSION:
            raise AnnotationConfigError(
                f"CVAT {version} is too old: the adapter needs CVAT 2.4 or later"
            )
        return version

    def find_tasks(self, name: str) -> list[dict[str, Any]]:
        """Tasks named exactly ``name``, oldest first."""
        found = [t for t in self.http.pages("/api/tasks", {"name": name}) if t["name"] == name]
        return sorted(found, key=lambda task: int(task["id"]))

    def create_task(self, name: str, labels: Sequence[str], segment_size: int) -> dict[str, Any]:
        """A new empty task (sent once: a lost answer is resolved by looking the name up)."""
        spec = {"name": name, "labels": [{"name": n} for n in labels], "segment_size": segment_size}
        task: dict[str, Any] = self.http.json("POST", "/api/tasks", json=spec, idempotent=False)
        return task

    def task(self, task_id: int) -> dict[str, Any] | None:
        """One task, or None when it does not exist (any more)."""
        response = self.http.request("GET", f"/api/tasks/{task_id}", allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def delete_task(self, task_id: int) -> None:
        self.http.request("DELETE", f"/api/tasks/{task_id}", allow=(404,))

    def upload_images(
        self, task_id: int, files: Sequence[tuple[str, Path]], image_quality: int
    ) -> str | None:
        """Attach images to a task (start, bulk parts, finish); the creation request's id.

        CVAT requires ``image_quality`` on every bulk part and on the finish (as cvat-sdk
        sends it). Servers before the requests API (CVAT < 2.18) answer without an id.
        """
        path = f"/api/tasks/{task_id}/data/"
        self.http.request("POST", path, headers={"Upload-Start": "true"})
        for group in _upload_groups(files):
            parts = [
                (f"client_files[{i}]", (name, source.read_bytes()))
                for i, (name, source) in enumerate(group)
            ]
            self.http.request(
                "POST",
                path,
                headers={"Upload-Multiple": "true"},
                data={"image_quality": str(image_quality)},
                files=parts,
            )
        body = self.http.json(
            "POST",
            path,
            headers={"Upload-Finish": "true"},
            json={"image_quality": image_quality},
            idempotent=False,
        )
        return body.get("rq_id") if isinstance(body, dict) else None

    def request_status(self, rq_id: str) -> dict[str, Any] | None:
        """A background request's state, or None when the server does not know it."""
        response = self.http.request("GET", f"/api/requests/{quote(rq_id, safe='')}", allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def labels(self, task_id: int) -> dict[str, int]:
        """Label ids of a task by name."""
        found = self.http.pages("/api/labels", {"task_id": task_id})
        return {label["name"]: int(label["id"]) for label in found}

    def jobs(self, task_id: int) -> list[dict[str, Any]]:
        """The annotation jobs of a task (ground-truth and consensus jobs left out)."""
        found = self.http.pages("/api/jobs", {"task_id": task_id})
        return [job for job in found if job.get("type", "annotation") == "annotation"]

    def job_meta(self, job_id: int) -> dict[str, Any]:
        meta: dict[str, Any] = self.http.json("GET", f"/api/jobs/{job_id}/data/meta")
        return meta

    def job_annotations(self, job_id: int) -> dict[str, Any]:
        annotations: dict[str, Any] = self.http.json("GET", f"/api/jobs/{job_id}/annotations/")
        return annotations

    def put_job_annotations(self, job_id: int, shapes: list[dict[str, Any]]) -> None:
        """Replace a job's annotations (safe to repeat)."""
        body = {"shapes": shapes, "tracks": [], "tags": []}
        self.http.request("PUT", f"/api/jobs/{job_id}/annotations/", json=body)


def _sign_in(
    username: str | None, password: str | None, token: str | None
) -> Callable[[HttpClient], None]:
    def sign_in(http: HttpClient) -> None:
        if token:
            scheme_given = token.split(" ", 1)[0] in ("Bearer", "Token")
            http.session.headers["Authorization"] = token if scheme_given else f"Bearer {token}"
            return
        http.session.cookies.clear()
        http.session.headers.pop("X-CSRFToken", None)
        credentials = {"username": username, "password": password}
        try:
            http.request("POST", "/api/auth/login", json=credentials, authenticated=False)
        except AnnotationConfigError as error:
            raise AnnotationCredentialsError(
                f"CVAT refused to sign in {username!r}: {error}"
            ) from error
        csrf = http.session.cookies.get("csrftoken")
        if csrf:
            http.session.headers["X-CSRFToken"] = csrf
        log.info("cvat_signed_in", server=http.base_url, username=username)

    return sign_in


def _upload_groups(files: Sequence[tuple[str, Path]]) -> Iterator[list[tuple[str, Path]]]:
    group: list[tuple[str, Path]] = []
    size = 0
    for name, path in files:
        file_size = path.stat().st_size
        if group and (size + file_size > _UPLOAD_GROUP_BYTES or len(group) >= _UPLOAD_GROUP_FILES):
            yield group
            group, size = [], 0
        group.append((name, path))
        size += file_size
    if group:
        yield group
