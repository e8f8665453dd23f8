"""The Label Studio adapter against a real Label Studio server (installed in its own venv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from al_object_detection.adapters.annotation.http import RetryPolicy
from al_object_detection.adapters.annotation.label_studio.annotator import (
    LabelStudioAnnotator,
    LabelStudioHandle,
    LabelStudioSettings,
)
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationCredentialsError,
    AnnotationNotReady,
    AnnotationProgress,
    AnnotationServerUnavailable,
)
from al_object_detection.adapters.dataset.store import FiftyOneStore

from .conftest import VirtualTime
from .label_studio_server import USERNAME, LabelStudioServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "shapes-r001-a0"
DRAWN = {"x": 2.5, "y": 5.0, "width": 40.0, "height": 12.5}  # percent, as Label Studio keeps it


def make_annotator(
    store: FiftyOneStore, server: LabelStudioServer, time: VirtualTime, **overrides: Any
) -> LabelStudioAnnotator:
    options: dict[str, Any] = {
        "url": server.url,
        "api_key": server.token,
        "document_root": server.document_root,
        "retry": RetryPolicy(attempts=2, base_delay_s=1.0, max_delay_s=2.0, timeout_s=10.0),
    }
    settings = LabelStudioSettings(**{**options, **overrides})
    return LabelStudioAnnotator(store, settings, sleep=time.sleep, uniform=lambda: 1.0)


def make_prelabels(fo: Any, store: FiftyOneStore, ids: list[str]) -> dict[str, Any]:
    """The hidden boxes as confident predictions, plus one unsure box per image."""
    prelabels = {}
    for sample_id, truth in store.hidden_labels(ids).items():
        boxes = [
            fo.Detection(label=d.label, bounding_box=list(d.bounding_box), confidence=0.9)
            for d in truth.detections
        ]
        boxes.append(fo.Detection(label="disc", bounding_box=[0, 0, 0.1, 0.1], confidence=0.1))
        prelabels[sample_id] = fo.Detections(detections=boxes)
    return prelabels


class Human:
    """A scripted annotator working through Label Studio's API."""

    def __init__(self, server: LabelStudioServer) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {server.token}"

    def tasks(self, project_id: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"project": project_id, "fields": "all", "page_size": 100}
        response = self.session.get(f"{self.url}/api/tasks", params=params, timeout=10)
        response.raise_for_status()
        return list(response.json()["tasks"])

    def annotate(self, task: dict[str, Any], *, skip: bool = False) -> None:
        """Accept the pre-labels and add one box (or skip the task)."""
        results = [dict(r) for p in task["predictions"] for r in p["result"]]
        results.append(
            {
                "from_name": "label",
                "to_name": "image",
                "type": "rectanglelabels",
                "original_width": 64,
                "original_height": 64,
                "value": {**DRAWN, "rotation": 0, "rectanglelabels": ["square"]},
            }
        )
        body: dict[str, Any] = {
            "result": [] if skip else results,
            "was_cancelled": skip,
            "lead_time": 2.0,
        }
        url = f"{self.url}/api/tasks/{task['id']}/annotations/"
        self.session.post(url, json=body, timeout=10).raise_for_status()


def test_a_round_goes_to_label_studio_and_its_labels_come_back(
    fo: Any, ls_store: FiftyOneStore, label_studio: LabelStudioServer, virtual_time: VirtualTime
) -> None:
    ids = ls_store.ids("pool")[:4]
    annotator = make_annotator(ls_store, label_studio, virtual_time)
    handle = annotator.submit(KEY, ids, make_prelabels(fo, ls_store, ids))
    project_id = LabelStudioHandle.loads(handle).project_id
    human = Human(label_studio)
    tasks = human.tasks(project_id)

    assert sorted(t["data"]["sample_id"] for t in tasks) == sorted(ids)
    truth = ls_store.hidden_labels(ids)
    for task in tasks:
        (predicted,) = task["predictions"]
        assert predicted["model_version"] == "al_object_detection"
        assert len(predicted["result"]) == len(truth[task["data"]["sample_id"]].detections)
        image = human.session.get(label_studio.url + task["data"]["image"], timeout=10)
        assert (image.status_code, image.headers["Content-Type"]) == (200, "image/png")
    assert annotator.poll(handle) == AnnotationProgress(completed=0, total=4)

    for task in tasks[:3]:
        human.annotate(task)
    assert annotator.poll(handle) == AnnotationProgress(completed=3, total=4)
    with pytest.raises(AnnotationNotReady):
        annotator.fetch(handle)
    human.annotate(tasks[3])

    fresh = make_annotator(ls_store, label_studio, virtual_time)  # as after a restart
    assert fresh.poll(handle).done
    labels = fresh.fetch(handle)
    assert set(labels) == set(ids)
    for sample_id in ids:
        boxes = labels[sample_id].detections
        drawn = [d for d in boxes if d.bounding_box == [0.025, 0.05, 0.4, 0.125]]
        assert len(drawn) == 1
        kept = sorted((d.label, d.bounding_box) for d in boxes if d is not drawn[0])
        expected = sorted((d.label, list(d.bounding_box)) for d in truth[sample_id].detections)
        assert [label for label, _ in kept] == [label for label, _ in expected]
        for (_, got), (_, want) in zip(kept, expected, strict=True):
            assert got == pytest.approx(want, abs=1e-12)
        assert {d.annotator for d in boxes} == {USERNAME}
        assert all(d.annotated_at for d in boxes)
    ls_store.set_labels(labels, round_index=1)
    assert ls_store.counts()["labeled"] == 4


def test_submitting_a_key_again_makes_no_second_project_or_task(
    ls_store: FiftyOneStore, label_studio: LabelStudioServer, virtual_time: VirtualTime
) -> None:
    ids = ls_store.ids("pool")[:3]
    key = "again-r001-a0"
    first = make_annotator(ls_store, label_studio, virtual_time).submit(key, ids, {})
    again = make_annotator(ls_store, label_studio, virtual_time).submit(key, ids, {})
    assert again == first
    project_id = LabelStudioHandle.loads(first).project_id
    assert len(Human(label_studio).tasks(project_id)) == 3
    titles = requests.get(
        f"{label_studio.url}/api/projects",
        params={"title": f"alod:{key}"},
        headers={"Authorization": f"Token {label_studio.token}"},
        timeout=10,
    ).json()["results"]
    assert [p["title"] for p in titles] == [f"alod:{key}"]


def test_label_studio_down_while_polling_only_delays_the_round(
    ls_store: FiftyOneStore, label_studio: LabelStudioServer, virtual_time: VirtualTime
) -> None:
    ids = ls_store.ids("pool")[:2]
    annotator = make_annotator(ls_store, label_studio, virtual_time)
    handle = annotator.submit("down-r001-a0", ids, {})
    label_studio.stop()
    try:
        for _ in range(3):
            with pytest.raises(AnnotationServerUnavailable):
                annotator.poll(handle)
    finally:
        label_studio.start()
    assert annotator.poll(handle) == AnnotationProgress(completed=0, total=2)
    human = Human(label_studio)
    for task in human.tasks(LabelStudioHandle.loads(handle).project_id):
        human.annotate(task)
    assert set(annotator.fetch(handle)) == set(ids)


def test_a_skipped_image_finishes_its_task_but_stays_unlabeled(
    ls_store: FiftyOneStore, label_studio: LabelStudioServer, virtual_time: VirtualTime
) -> None:
    ids = ls_store.ids("pool")[:2]
    annotator = make_annotator(ls_store, label_studio, virtual_time)
    handle = annotator.submit("skip-r001-a0", ids, {})
    human = Human(label_studio)
    first, second = human.tasks(LabelStudioHandle.loads(handle).project_id)
    human.annotate(first, skip=True)
    human.annotate(second)
    assert annotator.poll(handle).done
    assert set(annotator.fetch(handle)) == {second["data"]["sample_id"]}


def test_a_personal_access_token_works(
    ls_store: FiftyOneStore, label_studio: LabelStudioServer, virtual_time: VirtualTime
) -> None:
    legacy = {"Authorization": f"Token {label_studio.token}"}
    created = requests.post(f"{label_studio.url}/api/token/", headers=legacy, json={}, timeout=10)
    created.raise_for_status()
    annotator = make_annotator(
        ls_store, label_studio, virtual_time, api_key=created.json()["token"]
    )
    handle = annotator.submit("pat-r001-a0", ls_store.ids("pool")[:1], {})
    assert annotator.poll(handle).total == 1
    bad = make_annotator(ls_store, label_studio, virtual_time, api_key="a.b.c")
    with pytest.raises(AnnotationConfigError, match="refused the access token"):
        bad.poll(handle)


def test_a_refused_key_is_read_again_from_dotenv_once_fixed(
    ls_store: FiftyOneStore,
    label_studio: LabelStudioServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("FIFTYONE_LABELSTUDIO_URL", "FIFTYONE_LABELSTUDIO_API_KEY", "LABEL_STUDIO_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    def write_env(key: str) -> None:
        (tmp_path / ".env").write_text(
            f"FIFTYONE_LABELSTUDIO_URL={label_studio.url}\n"
            f"FIFTYONE_LABELSTUDIO_API_KEY={key}\n"
            f"LOCAL_FILES_DOCUMENT_ROOT={label_studio.document_root}\n"
        )

    write_env("0" * 40)
    annotator = LabelStudioAnnotator.from_env(ls_store)
    ids = ls_store.ids("pool")[:1]
    with pytest.raises(AnnotationCredentialsError):
        annotator.submit("dotenv-r001", ids, {})
    write_env(label_studio.token)  # the operator fixes .env: no new annotator, no restart
    handle = annotator.submit("dotenv-r001", ids, {})
    assert annotator.poll(handle) == AnnotationProgress(completed=0, total=1)
