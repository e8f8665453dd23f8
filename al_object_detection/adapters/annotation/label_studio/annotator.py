"""The Label Studio annotation backend: one project per batch, one task per image.

The project (titled from the key, which is also in its description) gets a RectangleLabels
config built from the store's classes and a local-files storage for each folder of the batch's
images, which the server must see under its ``LOCAL_FILES_DOCUMENT_ROOT``. Each task carries
the image URL, its sample id and the pre-labels as a prediction with a ``model_version``.
Submitting looks the title up and imports only the samples the project lacks, so the same key
never makes a second project or task. A task is finished once it has an annotation (a skipped
task counts as finished but brings no labels: the sample stays in the pool).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import structlog

from al_object_detection.adapters.annotation.credentials import SecretSource, page_links
from al_object_detection.adapters.annotation.http import RetryPolicy
from al_object_detection.adapters.annotation.label_studio.api import LabelStudioApi
from al_object_detection.adapters.annotation.label_studio.results import (
    label_config,
    prediction,
    result_box,
)
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationNotReady,
    AnnotationProgress,
    reconnect_after_refusal,
)

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

log = structlog.get_logger()

URL = ("FIFTYONE_LABELSTUDIO_URL", "LABEL_STUDIO_URL")
API_KEY = ("FIFTYONE_LABELSTUDIO_API_KEY", "LABEL_STUDIO_API_KEY")
DOCUMENT_ROOT = ("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", "LOCAL_FILES_DOCUMENT_ROOT")
_MAX_TITLE = 50
BACKEND = "labelstudio"
#: The handles' backend name as earlier versions stored it, still read.
_FORMER_BACKEND = "label_studio"


@dataclass(frozen=True)
class LabelStudioSettings:
    """Where Label Studio is, how to sign in, and where it finds the images."""

    url: str = field(repr=False)  # it may hold user:password@
    api_key: str = field(repr=False)
    document_root: Path
    title_prefix: str = "alod"
    prelabels: PrelabelSettings = field(default_factory=PrelabelSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    import_batch: int = 500

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise AnnotationConfigError(
                f"the Label Studio url must start with http(s)://: {self.url!r}"
            )
        if not self.api_key:
            raise AnnotationConfigError("Label Studio needs an API key (legacy or access token)")
        if not Path(self.document_root).is_absolute():
            raise AnnotationConfigError(f"the document root must be absolute: {self.document_root}")

    @classmethod
    def from_env(cls, source: SecretSource | None = None, **options: Any) -> LabelStudioSettings:
        """Settings from ``FIFTYONE_LABELSTUDIO_URL``/``_API_KEY`` (or ``LABEL_STUDIO_*``) and
        the server's ``LOCAL_FILES_DOCUMENT_ROOT``; a missing one fails at once, naming it."""
        source = source or SecretSource.default()
        url, api_key, root = source.get(*URL), source.get(*API_KEY), source.get(*DOCUMENT_ROOT)
        missing = [" or ".join(names) for names, v in ((URL, url), (API_KEY, api_key)) if not v]
        if not root and "document_root" not in options:
            missing.append(" or ".join(DOCUMENT_ROOT))
        if missing or url is None or api_key is None:
            raise AnnotationConfigError(
                f"Label Studio is not configured: set {'; '.join(missing)}; "
                f"looked in {source.describe()}"
            )
        options.setdefault("document_root", Path(str(root)))
        return cls(url=url, api_key=api_key, **options)


@dataclass(frozen=True)
class LabelStudioHandle:
    """What a new process needs to poll and fetch one batch."""

    key: str
    project_id: int
    sample_ids: tuple[str, ...]

    def dumps(self) -> str:
        body = {"backend": BACKEND, "key": self.key, "project": self.project_id}
        return json.dumps({**body, "sample_ids": list(self.sample_ids)})

    @classmethod
    def loads(cls, handle: str) -> LabelStudioHandle:
        try:
            body = json.loads(handle)
            if body["backend"] not in (BACKEND, _FORMER_BACKEND):
                raise ValueError(body["backend"])
            return cls(body["key"], int(body["project"]), tuple(body["sample_ids"]))
        except (ValueError, KeyError, TypeError) as error:
            raise AnnotationConfigError(f"not a Label Studio handle: {handle[:80]!r}") from error


def batch_links(handle: str, source: SecretSource) -> list[str]:
    """A stored batch's project page on the configured server; AnnotationConfigError if
    ``handle`` is no Label Studio batch."""
    batch = LabelStudioHandle.loads(handle)
    return page_links(source.get(*URL), [f"projects/{batch.project_id}"])


class LabelStudioAnnotator:
    """The :class:`~al_object_detection.adapters.annotation.protocol.Annotator` for Label Studio."""

    def __init__(
        self,
        store: FiftyOneStore,
        settings: LabelStudioSettings,
        *,
        reload_settings: Callable[[], LabelStudioSettings] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.settings = settings
        self._reload_settings = reload_settings
        self._sleep, self._uniform = sleep, uniform
        self._connected: LabelStudioApi | None = None

    @classmethod
    def from_env(
        cls, store: FiftyOneStore, source: SecretSource | None = None, **options: Any
    ) -> LabelStudioAnnotator:
        """An annotator configured by :meth:`LabelStudioSettings.from_env`, read again (from
        ``source``, else the environment, systemd credentials and ``.env`` of that moment)
        whenever the server refused the credentials."""

        settings = functools.partial(LabelStudioSettings.from_env, source, **options)
        return cls(store, settings(), reload_settings=settings)

    @reconnect_after_refusal
    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        if not sample_ids:
            raise ValueError("cannot submit an empty batch")
        relative = {
            sample_id: self._relative(path)
            for sample_id, path in zip(sample_ids, self.store.filepaths(sample_ids), strict=True)
        }
        api = self._api()
        project_id = self._ensure_project(api, key)
        self._ensure_storages(api, project_id, {path.parent for path in relative.values()})
        present = {task["data"].get("sample_id") for task in api.tasks(project_id)}
        todo = [s for s in sample_ids if s not in present]
        batch = self.settings.import_batch
        for start in range(0, len(todo), batch):
            tasks = [
                self._task(s, relative[s], prelabels.get(s)) for s in todo[start : start + batch]
            ]
            api.import_tasks(project_id, tasks)
        log.info(
            "label_studio_batch_submitted",
            key=key,
            project_id=project_id,
            imported=len(todo),
            images=len(sample_ids),
        )
        return LabelStudioHandle(key, project_id, tuple(sample_ids)).dumps()

    @reconnect_after_refusal
    def poll(self, handle: str) -> AnnotationProgress:
        batch = LabelStudioHandle.loads(handle)
        tasks = self._tasks(batch)
        completed = sum(1 for task in tasks if _finished(task))
        log.info(
            "label_studio_batch_progress", key=batch.key, completed=completed, total=len(tasks)
        )
        return AnnotationProgress(completed=completed, total=len(tasks))

    @reconnect_after_refusal
    def fetch(self, handle: str) -> dict[str, Any]:
        batch = LabelStudioHandle.loads(handle)
        tasks = self._tasks(batch, with_annotations=True)
        unfinished = [task["id"] for task in tasks if not _finished(task)]
        if unfinished:
            raise AnnotationNotReady(
                f"{len(unfinished)} Label Studio tasks of batch {batch.key!r} have no annotation "
                f"yet (e.g. {unfinished[:5]})"
            )
        names = self._api().user_names()
        from al_object_detection.adapters.dataset.store import import_fiftyone

        fo = import_fiftyone()
        wanted = set(batch.sample_ids)
        labels = {}
        for task in tasks:
            sample_id = task["data"].get("sample_id")
            annotations = [a for a in task["annotations"] if not a["was_cancelled"]]
            if sample_id in wanted and annotations:
                labels[sample_id] = self._detections(fo, annotations, names)
        missing = sorted(wanted - set(labels))
        if missing:
            log.warning(
                "label_studio_images_without_labels",
                key=batch.key,
                count=len(missing),
                sample_ids=missing[:10],
            )
        log.info("label_studio_batch_fetched", key=batch.key, images=len(labels))
        return labels

    def _api(self) -> LabelStudioApi:
        if self._connected is None:
            if self._reload_settings is not None:
                self.settings = self._reload_settings()
            api = LabelStudioApi.connect(
                self.settings.url,
                self.settings.api_key,
                retry=self.settings.retry,
                sleep=self._sleep,
                uniform=self._uniform,
            )
            log.info("label_studio_connected", server=self.settings.url, version=api.version())
            self._connected = api
        return self._connected

    def _tasks(
        self, batch: LabelStudioHandle, *, with_annotations: bool = False
    ) -> list[dict[str, Any]]:
        api = self._api()
        tasks = api.tasks(batch.project_id, with_annotations=with_annotations)
        if not tasks and api.project(batch.project_id) is None:
            raise AnnotationConfigError(
                f"Label Studio project {batch.project_id} was deleted: submit the batch again"
            )
        return tasks

    def _ensure_project(self, api: LabelStudioApi, key: str) -> int:
        title = project_title(self.settings.title_prefix, key)
        found = api.find_projects(title)
        if len(found) > 1:
            log.warning("label_studio_duplicate_titles", title=title, ids=[p["id"] for p in found])
        if found:
            return int(found[0]["id"])
        project = api.create_project(
            title,
            f"al_object_detection batch {key}",
            label_config(self.store.classes),
            self.settings.prelabels.model_version,
        )
        log.info("label_studio_project_created", title=title, project_id=project["id"])
        return int(project["id"])

    def _ensure_storages(self, api: LabelStudioApi, project_id: int, folders: set[Path]) -> None:
        root = Path(self.settings.document_root)
        known = api.local_storage_paths(project_id)
        for folder in sorted(str(root / f) for f in folders):
            if folder not in known:
                api.add_local_storage(project_id, folder)

    def _relative(self, filepath: str) -> Path:
        """The image's path below the document root (Label Studio serves nothing else)."""
        root = Path(self.settings.document_root)
        for path, base in ((Path(filepath), root), (Path(filepath).resolve(), root.resolve())):
            if path.is_relative_to(base):
                relative = path.relative_to(base)
                if relative.parent == Path("."):
                    raise AnnotationConfigError(
                        f"Label Studio serves local files only from subfolders of {root}: "
                        f"move {filepath} into one"
                    )
                return relative
        raise AnnotationConfigError(
            f"{filepath} is not under Label Studio's document root {root}: Label Studio "
            f"can only show images below its LOCAL_FILES_DOCUMENT_ROOT"
        )

    def _task(self, sample_id: str, relative: Path, detections: Any) -> dict[str, Any]:
        url = "/data/local-files/?d=" + quote(relative.as_posix())
        task: dict[str, Any] = {"data": {"image": url, "sample_id": sample_id}}
        boxes = self.settings.prelabels.select(detections, self.store.classes)
        if boxes:
            task["predictions"] = [prediction(boxes, self.settings.prelabels.model_version)]
        return task

    def _detections(
        self, fo: Any, annotations: list[dict[str, Any]], names: Mapping[int, str]
    ) -> Any:
        """The latest submitted annotation of a task as FiftyOne detections."""
        latest = max(annotations, key=lambda a: (str(a.get("updated_at")), int(a["id"])))
        who = latest.get("completed_by")
        user_id = who.get("id") if isinstance(who, dict) else who
        stamp = {
            "annotator": names.get(int(user_id)) if user_id is not None else None,
            "annotated_at": latest.get("updated_at") or latest.get("created_at"),
        }
        boxes = []
        for item in latest["result"]:
            found = result_box(item)
            if found is not None and found[0] in self.store.classes:
                boxes.append(fo.Detection(label=found[0], bounding_box=found[1], **stamp))
        return fo.Detections(detections=boxes)


def project_title(prefix: str, key: str) -> str:
    """A deterministic title within Label Studio's 50 characters."""
    title = f"{prefix}:{key}"
    if len(title) <= _MAX_TITLE:
        return title
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return f"{title[: _MAX_TITLE - len(digest) - 1]}~{digest}"


def _finished(task: Mapping[str, Any]) -> bool:
    return int(task.get("total_annotations") or 0) + int(task.get("cancelled_annotations") or 0) > 0
