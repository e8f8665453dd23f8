"""The CVAT annotation backend: one round's picks become CVAT tasks, finished jobs become labels.

A batch of N images becomes ceil(N / task_size) tasks named ``<prefix>:<key>:<i>/<n>``, each
split into jobs of ``job_size`` images; each image is uploaded as ``<sample id><suffix>`` so its
annotations map back to the sample by name, whatever the frame order. Submitting looks every
name up first and finishes what a crash interrupted (a task without images is deleted and made
again, pre-labels go only into untouched jobs), so the same key never makes a second task; a
task whose upload fails is deleted at once, never left empty. Credentials are read again
after the server refused them, so fixing ``.env`` needs no restart.
A batch is done when every job is ``completed`` (or, with ``done_when="acceptance"``, completed
in the acceptance stage); a job reopened later makes it not done again.
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import structlog

from al_object_detection.adapters.annotation.credentials import (
    SecretSource,
    page_links,
    without_userinfo,
)
from al_object_detection.adapters.annotation.cvat.api import CvatApi
from al_object_detection.adapters.annotation.cvat.shapes import prelabel_shape, to_box
from al_object_detection.adapters.annotation.http import RetryPolicy
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationNotReady,
    AnnotationProgress,
    AnnotationServerUnavailable,
    reconnect_after_refusal,
)

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

log = structlog.get_logger()

DoneWhen = Literal["completed", "acceptance"]
URL, USERNAME, PASSWORD, TOKEN = (
    "FIFTYONE_CVAT_URL",
    "FIFTYONE_CVAT_USERNAME",
    "FIFTYONE_CVAT_PASSWORD",
    "FIFTYONE_CVAT_TOKEN",
)


@dataclass(frozen=True)
class CvatSettings:
    """Where CVAT is, how to sign in, and how batches are cut and judged finished."""

    url: str = field(repr=False)  # it may hold user:password@
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    task_size: int = 500
    job_size: int = 50
    done_when: DoneWhen = "completed"
    name_prefix: str = "alod"
    image_quality: int = 95
    prelabels: PrelabelSettings = field(default_factory=PrelabelSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    creation_timeout_s: float = 600.0
    status_interval_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise AnnotationConfigError(f"the CVAT url must start with http(s)://: {self.url!r}")
        if not self.token and not (self.username and self.password):
            raise AnnotationConfigError("CVAT needs a token, or a username and a password")
        if self.task_size < 1 or self.job_size < 1:
            raise AnnotationConfigError("task_size and job_size must be at least 1")
        if self.done_when not in ("completed", "acceptance"):
            raise AnnotationConfigError(
                f"done_when must be 'completed' or 'acceptance', got {self.done_when!r}"
            )

    @classmethod
    def from_env(cls, source: SecretSource | None = None, **options: Any) -> CvatSettings:
        """Settings from ``FIFTYONE_CVAT_URL`` and ``..._TOKEN`` or ``..._USERNAME``/``_PASSWORD``.

        Values come from the environment, systemd credentials or ``.env`` (see
        :class:`SecretSource`); a missing one fails at once, naming what to set.
        """
        source = source or SecretSource.default()
        url, token = source.get(URL), source.get(TOKEN)
        username, password = source.get(USERNAME), source.get(PASSWORD)
        missing = [] if url else [URL]
        if not token and not (username and password):
            missing.append(f"{TOKEN} (or {USERNAME} and {PASSWORD})")
        if missing or url is None:
            raise AnnotationConfigError(
                f"CVAT is not configured: set {' and '.join(missing)}; "
                f"looked in {source.describe()}"
            )
        return cls(url=url, username=username, password=password, token=token, **options)


@dataclass(frozen=True)
class CvatHandle:
    """What a new process needs to poll and fetch one batch (and an operator to open it)."""

    key: str
    task_ids: tuple[int, ...]
    sample_ids: tuple[str, ...]
    server: str = ""
    jobs: tuple[tuple[int, int], ...] = ()  # (task id, job id)

    def dumps(self) -> str:
        body = {"backend": "cvat", "key": self.key, "tasks": list(self.task_ids)}
        links = {"server": self.server, "jobs": [list(pair) for pair in self.jobs]}
        return json.dumps({**body, **links, "sample_ids": list(self.sample_ids)})

    @classmethod
    def loads(cls, handle: str) -> CvatHandle:
        try:
            body = json.loads(handle)
            if body["backend"] != "cvat":
                raise ValueError(body["backend"])
            jobs = tuple((int(t), int(j)) for t, j in body.get("jobs", ()))
            return cls(
                body["key"],
                tuple(body["tasks"]),
                tuple(body["sample_ids"]),
                str(body.get("server", "")),
                jobs,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise AnnotationConfigError(f"not a CVAT handle: {handle[:80]!r}") from error


def batch_links(handle: str, source: SecretSource) -> list[str]:
    """A stored batch's task and job pages, on the server it went to (else the configured one);
    AnnotationConfigError if ``handle`` is no CVAT batch."""
    batch = CvatHandle.loads(handle)
    pages = [f"tasks/{task}" for task in batch.task_ids]
    pages += [f"tasks/{task}/jobs/{job}" for task, job in batch.jobs]
    return page_links(batch.server or source.get(URL), pages)


class CvatAnnotator:
    """The annotation protocol's ``Annotator`` for a CVAT server."""

    def __init__(
        self,
        store: FiftyOneStore,
        settings: CvatSettings,
        *,
        reload_settings: Callable[[], CvatSettings] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.settings = settings
        self._reload_settings = reload_settings
        self._sleep, self._clock, self._uniform = sleep, clock, uniform
        self._connected: CvatApi | None = None

    @classmethod
    def from_env(
        cls, store: FiftyOneStore, source: SecretSource | None = None, **options: Any
    ) -> CvatAnnotator:
        """An annotator configured by :meth:`CvatSettings.from_env`, read again (from
        ``source``, else the environment, systemd credentials and ``.env`` of that moment)
        whenever the server refused the credentials."""

        settings = functools.partial(CvatSettings.from_env, source, **options)
        return cls(store, settings(), reload_settings=settings)

    @reconnect_after_refusal
    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        if not sample_ids:
            raise ValueError("cannot submit an empty batch")
        paths = dict(zip(sample_ids, self.store.filepaths(sample_ids), strict=True))
        missing = [path for path in paths.values() if not Path(path).is_file()]
        if missing:
            raise AnnotationConfigError(f"{len(missing)} images are not on disk: {missing[:5]}")
        api = self._api()
        n_tasks = math.ceil(len(sample_ids) / self.settings.task_size)
        task_ids: list[int] = []
        jobs: list[tuple[int, int]] = []
        for index in range(n_tasks):
            part = sample_ids[
                index * self.settings.task_size : (index + 1) * self.settings.task_size
            ]
            name = f"{self.settings.name_prefix}:{key}:{index + 1}/{n_tasks}"
            task_id = self._ensure_task(
                api, name, [(image_name(s, paths[s]), Path(paths[s])) for s in part]
            )
            jobs += self._ensure_prelabels(api, task_id, prelabels)
            task_ids.append(task_id)
        log.info("cvat_batch_submitted", key=key, tasks=task_ids, images=len(sample_ids))
        server = without_userinfo(self.settings.url).rstrip("/")  # stored: no password
        return CvatHandle(key, tuple(task_ids), tuple(sample_ids), server, tuple(jobs)).dumps()

    @reconnect_after_refusal
    def poll(self, handle: str) -> AnnotationProgress:
        batch = CvatHandle.loads(handle)
        api = self._api()
        completed = total = 0
        for task_id in batch.task_ids:
            for job in self._jobs(api, task_id):
                frames = int(job["stop_frame"]) - int(job["start_frame"]) + 1
                total += frames
                completed += frames if self._done(job) else 0
        log.info("cvat_batch_progress", key=batch.key, completed=completed, total=total)
        return AnnotationProgress(completed=completed, total=total)

    @reconnect_after_refusal
    def fetch(self, handle: str) -> dict[str, Any]:
        batch = CvatHandle.loads(handle)
        api = self._api()
        from al_object_detection.adapters.dataset.store import import_fiftyone

        fo = import_fiftyone()
        wanted = set(batch.sample_ids)
        labels: dict[str, Any] = {}
        for task_id in batch.task_ids:
            names = {label_id: name for name, label_id in api.labels(task_id).items()}
            for job in self._jobs(api, task_id):
                if not self._done(job):
                    raise AnnotationNotReady(
                        f"CVAT job {job['id']} of task {task_id} is {job['state']} in stage "
                        f"{job['stage']}: the batch {batch.key!r} is not finished"
                    )
                labels.update(self._job_labels(api, fo, job, names, wanted))
        missing = sorted(wanted - set(labels))
        if missing:
            log.warning(
                "cvat_images_without_labels",
                key=batch.key,
                count=len(missing),
                sample_ids=missing[:10],
            )
        log.info("cvat_batch_fetched", key=batch.key, images=len(labels))
        return labels

    def _api(self) -> CvatApi:
        if self._connected is None:
            if self._reload_settings is not None:
                self.settings = self._reload_settings()
            api = CvatApi.connect(
                self.settings.url,
                username=self.settings.username,
                password=self.settings.password,
                token=self.settings.token,
                retry=self.settings.retry,
                sleep=self._sleep,
                uniform=self._uniform,
            )
            log.info("cvat_connected", server=self.settings.url, version=api.check_version())
            self._connected = api
        return self._connected

    def _done(self, job: Mapping[str, Any]) -> bool:
        if job["state"] != "completed":
            return False
        return self.settings.done_when == "completed" or job["stage"] == "acceptance"

    def _jobs(self, api: CvatApi, task_id: int) -> list[dict[str, Any]]:
        jobs = api.jobs(task_id)
        if not jobs and api.task(task_id) is None:
            raise AnnotationConfigError(
                f"CVAT task {task_id} was deleted on the server: submit the batch again"
            )
        return jobs

    def _ensure_task(self, api: CvatApi, name: str, files: list[tuple[str, Path]]) -> int:
        found = api.find_tasks(name)
        if len(found) > 1:
            log.warning("cvat_duplicate_task_names", name=name, task_ids=[t["id"] for t in found])
        if found and _has_images(found[0]):
            log.info("cvat_task_reused", name=name, task_id=found[0]["id"])
            return int(found[0]["id"])
        for task in found[:1]:
            log.warning("cvat_incomplete_task_replaced", name=name, task_id=task["id"])
            api.delete_task(int(task["id"]))
        task_id = int(api.create_task(name, self.store.classes, self.settings.job_size)["id"])
        log.info("cvat_task_created", name=name, task_id=task_id, images=len(files))
        try:
            rq_id = api.upload_images(task_id, files, self.settings.image_quality)
            self._wait_for_images(api, task_id, rq_id)
        except Exception as error:
            log.warning("cvat_upload_failed", name=name, task_id=task_id, error=str(error))
            self._delete_quietly(api, task_id)
            raise
        return task_id

    def _delete_quietly(self, api: CvatApi, task_id: int) -> None:
        """Delete a task whose images did not arrive; if even that fails, the next submit
        finds it empty and replaces it."""
        try:
            api.delete_task(task_id)
        except Exception as error:  # noqa: BLE001 -- the upload's own error is the one raised
            log.warning("cvat_empty_task_left", task_id=task_id, error=str(error))
        else:
            log.info("cvat_empty_task_deleted", task_id=task_id)

    def _wait_for_images(self, api: CvatApi, task_id: int, rq_id: str | None) -> None:
        deadline = self._clock() + self.settings.creation_timeout_s
        while True:
            request = api.request_status(rq_id) if rq_id else None
            if request is not None and request["status"] == "failed":
                raise AnnotationConfigError(
                    f"CVAT could not create task {task_id}: {request.get('message')}"
                )
            finished = request["status"] == "finished" if request else None
            if finished or (finished is None and _has_images(api.task(task_id))):
                return
            if self._clock() > deadline:
                raise AnnotationServerUnavailable(
                    f"CVAT task {task_id} still has no images after "
                    f"{self.settings.creation_timeout_s:.0f} s"
                )
            self._sleep(self.settings.status_interval_s)

    def _ensure_prelabels(
        self, api: CvatApi, task_id: int, prelabels: Mapping[str, Any]
    ) -> list[tuple[int, int]]:
        """Pre-labels into the task's untouched jobs; (task id, job id) of all its jobs."""
        label_ids = api.labels(task_id)
        jobs = api.jobs(task_id)
        for job in jobs:
            if job["state"] != "new" or api.job_annotations(job["id"])["shapes"]:
                continue
            shapes = []
            for frame, (sample_id, width, height) in _frames(api.job_meta(job["id"])).items():
                for box in self.settings.prelabels.select(
                    prelabels.get(sample_id), self.store.classes
                ):
                    label_id = label_ids.get(box.label)
                    if label_id is not None:
                        shapes.append(
                            prelabel_shape(box.bounding_box, frame, label_id, width, height)
                        )
            if shapes:
                api.put_job_annotations(job["id"], shapes)
                log.info(
                    "cvat_prelabels_uploaded", task_id=task_id, job_id=job["id"], boxes=len(shapes)
                )
        return sorted((task_id, int(job["id"])) for job in jobs)

    def _job_labels(
        self,
        api: CvatApi,
        fo: Any,
        job: Mapping[str, Any],
        names: Mapping[int, str],
        wanted: set[str],
    ) -> dict[str, Any]:
        frames = {f: v for f, v in _frames(api.job_meta(job["id"])).items() if v[0] in wanted}
        annotations = api.job_annotations(job["id"])
        assignee = job.get("assignee") or {}
        stamp = {"annotator": assignee.get("username"), "annotated_at": job.get("updated_date")}
        boxes: dict[int, list[Any]] = {frame: [] for frame in frames}
        skipped = len(annotations.get("tracks", ()))
        for shape in annotations["shapes"]:
            label, frame = names.get(shape["label_id"]), shape["frame"]
            if (
                shape["type"] != "rectangle"
                or frame not in frames
                or label not in self.store.classes
            ):
                skipped += 1
                continue
            _, width, height = frames[frame]
            box = to_box(shape["points"], width, height, shape.get("rotation") or 0.0)
            if box is not None:
                boxes[frame].append(fo.Detection(label=label, bounding_box=box, **stamp))
        if skipped:
            log.warning("cvat_annotations_skipped", job_id=job["id"], count=skipped)
        return {frames[f][0]: fo.Detections(detections=found) for f, found in boxes.items()}


def image_name(sample_id: str, filepath: str) -> str:
    """The file name an image gets in CVAT: its sample id, so labels map back by identity."""
    return sample_id + Path(filepath).suffix.lower()


def _frames(meta: Mapping[str, Any]) -> dict[int, tuple[str, int, int]]:
    """Task frame number -> (sample id, width, height) of a job, deleted frames left out."""
    numbers = meta.get("included_frames") or range(
        int(meta["start_frame"]), int(meta["start_frame"]) + len(meta["frames"])
    )
    deleted = set(meta.get("deleted_frames") or ())
    return {
        number: (PurePosixPath(frame["name"]).stem, int(frame["width"]), int(frame["height"]))
        for number, frame in zip(numbers, meta["frames"], strict=True)
        if number not in deleted
    }


def _has_images(task: Mapping[str, Any] | None) -> bool:
    return bool(task and task.get("size") and task.get("jobs", {}).get("count"))
