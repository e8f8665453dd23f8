"""A scripted CVAT annotator: signs in as a person and works through the REST API like the UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

#: (frame name, width, height) -> [(label name, [x1, y1, x2, y2] in pixels)]
Drawer = Callable[[str, int, int], list[tuple[str, list[float]]]]


class CvatHuman:
    """One person on a CVAT server."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        credentials = {"username": username, "password": password}
        self.session.post(f"{url}/api/auth/login", json=credentials, timeout=5).raise_for_status()
        self.session.headers["X-CSRFToken"] = str(self.session.cookies["csrftoken"])

    def _get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.url + path, params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def _all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return list(self._get(path, page_size=1000, **params)["results"])

    def tasks(self, name_prefix: str = "") -> list[dict[str, Any]]:
        return [t for t in self._all("/api/tasks") if str(t["name"]).startswith(name_prefix)]

    def jobs(self, task_id: int) -> list[dict[str, Any]]:
        return self._all("/api/jobs", task_id=task_id)

    def shapes(self, job_id: int) -> list[dict[str, Any]]:
        return list(self._get(f"/api/jobs/{job_id}/annotations/")["shapes"])

    def annotate(self, job_id: int, draw: Drawer, *, keep_prelabels: bool = True) -> None:
        """Keep (or drop) the pre-labels and add the boxes ``draw`` gives for each frame."""
        job = self._get(f"/api/jobs/{job_id}")
        meta = self._get(f"/api/jobs/{job_id}/data/meta")
        labels = {
            label["name"]: label["id"] for label in self._all("/api/labels", task_id=job["task_id"])
        }
        shapes = self.shapes(job_id) if keep_prelabels else []
        for offset, frame in enumerate(meta["frames"]):
            for label, points in draw(frame["name"], frame["width"], frame["height"]):
                shapes.append(
                    {
                        "type": "rectangle",
                        "frame": meta["start_frame"] + offset,
                        "label_id": labels[label],
                        "points": points,
                        "occluded": False,
                        "z_order": 0,
                        "attributes": [],
                    }
                )
        body = {"shapes": shapes, "tracks": [], "tags": []}
        self.session.put(
            f"{self.url}/api/jobs/{job_id}/annotations/", json=body, timeout=5
        ).raise_for_status()

    def set_job(self, job_id: int, **fields: Any) -> None:
        """PATCH a job: ``state``, ``stage``, ``assignee`` (a user id)."""
        self.session.patch(
            f"{self.url}/api/jobs/{job_id}", json=fields, timeout=5
        ).raise_for_status()
