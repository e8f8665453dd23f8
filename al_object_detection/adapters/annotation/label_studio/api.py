"""The few Label Studio REST endpoints the Label Studio adapter uses, as plain HTTP.

Signing in: a legacy API token (``Authorization: Token <key>``) or a personal access token (a
JWT refresh token, exchanged at ``/api/token/refresh`` for a short-lived ``Bearer`` token and
exchanged again when that one expires).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog

from al_object_detection.adapters.annotation.http import HttpClient, RetryPolicy
from al_object_detection.adapters.annotation.protocol import AnnotationConfigError

log = structlog.get_logger()

_PAGE_SIZE = 100


class LabelStudioApi:
    """Typed calls on one Label Studio server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        url: str,
        api_key: str,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        uniform: Callable[[], float],
    ) -> LabelStudioApi:
        """A client for ``url``; nothing is sent before the first call."""
        http = HttpClient(url, retry, authenticate=_sign_in(api_key), sleep=sleep, uniform=uniform)
        return cls(http)

    def version(self) -> str:
        return str(self.http.json("GET", "/api/version").get("release", "unknown"))

    def find_projects(self, title: str) -> list[dict[str, Any]]:
        """Projects titled exactly ``title``, oldest first."""
        found = self.http.pages("/api/projects", {"title": title})
        return sorted((p for p in found if p["title"] == title), key=lambda p: int(p["id"]))

    def project(self, project_id: int) -> dict[str, Any] | None:
        """One project, or None when it does not exist (any more)."""
        response = self.http.request("GET", f"/api/projects/{project_id}", allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def create_project(
        self, title: str, description: str, label_config: str, model_version: str
    ) -> dict[str, Any]:
        """A new project (sent once: a lost answer is resolved by looking the title up)."""
        spec = {
            "title": title,
            "description": description,
            "label_config": label_config,
            "model_version": model_version,
            "show_collab_predictions": True,
        }
        project: dict[str, Any] = self.http.json(
            "POST", "/api/projects", json=spec, idempotent=False
        )
        return project

    def local_storage_paths(self, project_id: int) -> set[str]:
        storages = self.http.json("GET", "/api/storages/localfiles", params={"project": project_id})
        return {str(storage["path"]) for storage in storages}

    def add_local_storage(self, project_id: int, path: str) -> None:
        """Let the project's tasks show images from the folder ``path`` (no sync: tasks are
        imported one by one, with their pre-labels)."""
        spec = {"project": project_id, "path": path, "use_blob_urls": True, "title": path[-128:]}
        self.http.request("POST", "/api/storages/localfiles", json=spec, idempotent=False)

    def tasks(self, project_id: int, *, with_annotations: bool = False) -> list[dict[str, Any]]:
        """Every task of a project (with its annotations when asked)."""
        params: dict[str, Any] = {"project": project_id, "page_size": _PAGE_SIZE}
        if with_annotations:
            params["fields"] = "all"
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.http.json("GET", "/api/tasks", params={**params, "page": page})
            found.extend(body["tasks"])
            if not body["tasks"] or len(found) >= int(body["total"]):
                return found
            page += 1

    def import_tasks(self, project_id: int, tasks: Sequence[dict[str, Any]]) -> None:
        """Create tasks (sent once: the caller imports only what is not there yet)."""
        self.http.request(
            "POST", f"/api/projects/{project_id}/import", json=list(tasks), idempotent=False
        )

    def user_names(self) -> dict[int, str]:
        """Who is who: user id -> e-mail (or user name)."""
        users = self.http.json("GET", "/api/users/")
        return {int(u["id"]): str(u.get("email") or u.get("username") or u["id"]) for u in users}


def _sign_in(api_key: str) -> Callable[[HttpClient], None]:
    def sign_in(http: HttpClient) -> None:
        if api_key.count(".") != 2:
            http.session.headers["Authorization"] = f"Token {api_key}"
            return
        try:
            body = http.json(
                "POST", "/api/token/refresh", json={"refresh": api_key}, authenticated=False
            )
        except AnnotationConfigError as error:
            raise AnnotationConfigError(
                f"Label Studio refused the access token: {error}"
            ) from error
        http.session.headers["Authorization"] = f"Bearer {body['access']}"
        log.info("label_studio_access_token_refreshed", server=http.base_url)

    return sign_in
