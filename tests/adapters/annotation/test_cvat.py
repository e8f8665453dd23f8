"""The CVAT adapter against the fake CVAT server: a full round, idempotence, and faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from al_object_detection.adapters.annotation.cvat.annotator import (
    CvatAnnotator,
    CvatHandle,
    CvatSettings,
)
from al_object_detection.adapters.annotation.http import RetryPolicy
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationNotReady,
    AnnotationProgress,
    AnnotationServerUnavailable,
)
from al_object_detection.adapters.dataset.store import FiftyOneStore

from .conftest import BOT, BOT_PASSWORD, HUMAN, HUMAN_PASSWORD, VirtualTime
from .cvat_human import CvatHuman
from .fake_cvat import FakeCvat

pytestmark = pytest.mark.integration

KEY = "shapes-r001-a0"
DRAWN = [1.5, 2.25, 33.0, 40.5]  # pixel corners the scripted human draws on every image


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def make_annotator(
    store: FiftyOneStore, fake: FakeCvat, time: VirtualTime, **overrides: Any
) -> CvatAnnotator:
    options: dict[str, Any] = {
        "url": fake.url,
        "username": BOT,
        "password": BOT_PASSWORD,
        "task_size": 3,
        "job_size": 2,
        "retry": RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=4.0, timeout_s=2.0),
        "status_interval_s": 0.5,
    }
    settings = CvatSettings(**{**options, **overrides})
    return CvatAnnotator(store, settings, sleep=time.sleep, clock=time.clock, uniform=lambda: 1.0)


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


def label_everything(
    fake: FakeCvat, *, stage: str = "acceptance", keep_prelabels: bool = True
) -> CvatHuman:
    """The scripted human takes every job, keeps the pre-labels, adds a box, finishes."""
    human = CvatHuman(fake.url, HUMAN, HUMAN_PASSWORD)
    human_id = fake.users[HUMAN]["id"]
    for task in human.tasks():
        for job in human.jobs(task["id"]):
            human.set_job(job["id"], assignee=human_id, state="in progress")
            human.annotate(
                job["id"], lambda *_: [("square", list(DRAWN))], keep_prelabels=keep_prelabels
            )
            human.set_job(job["id"], state="completed", stage=stage)
    return human


def test_a_round_goes_to_cvat_and_its_labels_come_back_by_image(
    fo: Any, store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:7][::-1]  # not in name order: CVAT sorts frames by name
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, make_prelabels(fo, store, ids))

    names = sorted(task.name for task in fake_cvat.tasks.values())
    assert names == [f"alod:{KEY}:{i}/3" for i in (1, 2, 3)]
    assert sorted(len(t.frames) for t in fake_cvat.tasks.values()) == [1, 3, 3]
    assert len(fake_cvat.jobs) == 5
    auto = [s for job in fake_cvat.jobs.values() for s in job.shapes]
    n_true_boxes = sum(len(t.detections) for t in store.hidden_labels(ids).values())
    assert len(auto) == n_true_boxes  # the unsure boxes stayed out
    assert {s["source"] for s in auto} == {"auto"}
    assert annotator.poll(handle) == AnnotationProgress(completed=0, total=7)

    label_everything(fake_cvat)
    fresh = make_annotator(store, fake_cvat, virtual_time)  # as after a restart
    assert fresh.poll(handle) == AnnotationProgress(completed=7, total=7)
    labels = fresh.fetch(handle)

    assert set(labels) == set(ids)
    truth = store.hidden_labels(ids)
    for sample_id in ids:
        boxes = labels[sample_id].detections
        drawn = [d for d in boxes if d.bounding_box == [1.5 / 64, 2.25 / 64, 31.5 / 64, 38.25 / 64]]
        assert len(drawn) == 1
        kept = sorted((d.label, d.bounding_box) for d in boxes if d is not drawn[0])
        expected = sorted((d.label, list(d.bounding_box)) for d in truth[sample_id].detections)
        assert [label for label, _ in kept] == [label for label, _ in expected]
        for (_, got), (_, want) in zip(kept, expected, strict=True):
            assert got == pytest.approx(want, abs=1e-12)
        assert {d.annotator for d in boxes} == {HUMAN}
        assert all(d.annotated_at for d in boxes)
    store.set_labels(labels, round_index=1)
    assert store.counts()["labeled"] == 7


def test_submitting_a_key_again_reuses_its_tasks_and_pre_labels(
    fo: Any, store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:5]
    prelabels = make_prelabels(fo, store, ids)
    first = make_annotator(store, fake_cvat, virtual_time).submit(KEY, ids, prelabels)
    shapes = sum(len(job.shapes) for job in fake_cvat.jobs.values())
    again = make_annotator(store, fake_cvat, virtual_time).submit(KEY, ids, prelabels)
    assert again == first
    assert fake_cvat.count("POST", "/api/tasks") == 2
    assert sum(len(job.shapes) for job in fake_cvat.jobs.values()) == shapes


def test_pre_label_knobs_cap_and_filter_boxes(
    fo: Any, store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:3]
    prelabels = make_prelabels(fo, store, ids)
    knobs = PrelabelSettings(min_confidence=0.05, max_boxes=1)
    make_annotator(store, fake_cvat, virtual_time, prelabels=knobs).submit(KEY, ids, prelabels)
    per_frame: dict[tuple[int, int], int] = {}
    for job in fake_cvat.jobs.values():
        for shape in job.shapes:
            per_frame[(job.task_id, shape["frame"])] = (
                per_frame.get((job.task_id, shape["frame"]), 0) + 1
            )
    assert sorted(per_frame.values()) == [1, 1, 1]


def test_the_server_down_at_submit_is_transient_and_creates_nothing(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    fake_cvat.stop()
    with capture_logs() as logs, pytest.raises(AnnotationServerUnavailable):
        annotator.submit(KEY, ids, {})
    assert virtual_time.sleeps == [1.0, 2.0]  # bounded backoff, 3 attempts
    assert [entry["event"] for entry in logs].count("annotation_server_retry") == 2
    fake_cvat.start()
    handle = annotator.submit(KEY, ids, {})
    assert len(fake_cvat.tasks) == 1
    assert annotator.poll(handle).total == 2


def test_a_server_down_for_hours_while_polling_only_delays_the_round(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:4]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, {})
    fake_cvat.stop()
    for _ in range(100):  # the engine's polls, each after its own pause
        with pytest.raises(AnnotationServerUnavailable):
            annotator.poll(handle)
        virtual_time.now += 300
    assert max(virtual_time.sleeps) <= 4.0
    fake_cvat.start()
    assert annotator.poll(handle) == AnnotationProgress(completed=0, total=4)
    label_everything(fake_cvat)
    assert annotator.poll(handle).done
    assert set(annotator.fetch(handle)) == set(ids)


def test_5xx_answers_are_retried_with_backoff(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, {})
    fake_cvat.inject("GET", "/api/jobs", status=502, times=2)
    with capture_logs() as logs:
        assert annotator.poll(handle).total == 2
    retries = [entry for entry in logs if entry["event"] == "annotation_server_retry"]
    assert [(r["error"], r["delay_s"]) for r in retries] == [("HTTP 502", 1.0), ("HTTP 502", 2.0)]


def test_an_expired_session_signs_in_again(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, {})
    fake_cvat.expire_sessions()
    assert annotator.poll(handle).total == 2
    assert fake_cvat.count("POST", "/api/auth/login") == 2


def test_wrong_credentials_fail_at_once_as_a_config_error(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    annotator = make_annotator(store, fake_cvat, virtual_time, password="wrong")
    with pytest.raises(AnnotationConfigError, match="refused to sign in"):
        annotator.submit(KEY, store.ids("pool")[:1], {})
    assert virtual_time.sleeps == []


def test_an_access_token_is_sent_as_bearer(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    token = fake_cvat.add_access_token(BOT)
    annotator = make_annotator(
        store, fake_cvat, virtual_time, username=None, password=None, token=token
    )
    handle = annotator.submit(KEY, store.ids("pool")[:1], {})
    assert annotator.poll(handle).total == 1
    assert fake_cvat.count("POST", "/api/auth/login") == 0


def test_a_slow_create_answer_never_leaves_two_tasks(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    retry = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=4.0, timeout_s=0.3)
    annotator = make_annotator(store, fake_cvat, virtual_time, retry=retry)
    fake_cvat.inject("POST", "^/api/tasks$", delay_s=0.6)
    with pytest.raises(AnnotationServerUnavailable):
        annotator.submit(KEY, ids, {})
    wait_until(lambda: bool(fake_cvat.tasks))  # the server created it after the client gave up
    handle = annotator.submit(KEY, ids, {})
    assert [task.name for task in fake_cvat.tasks.values()] == [f"alod:{KEY}:1/1"]
    assert CvatHandle.loads(handle).task_ids == tuple(fake_cvat.tasks)


def test_a_slow_answer_past_the_timeout_is_retried(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    # The delay outlasts the timeout many times over; a loaded machine may add a timeout, never
    # remove the first one.
    retry = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=4.0, timeout_s=1.0)
    annotator = make_annotator(store, fake_cvat, virtual_time, retry=retry)
    handle = annotator.submit(KEY, ids, {})
    fake_cvat.inject("GET", "^/api/jobs$", delay_s=4.0)
    with capture_logs() as logs:
        assert annotator.poll(handle).total == 2
    errors = [e["error"].split(":")[0] for e in logs if "error" in e]
    assert errors[:1] == ["ReadTimeout"]
    assert set(errors) == {"ReadTimeout"}


def test_a_failed_upload_deletes_its_task_at_once(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    fake_cvat.inject("POST", "/data/", status=503, times=3)
    with pytest.raises(AnnotationServerUnavailable):
        annotator.submit(KEY, ids, {})
    assert fake_cvat.tasks == {}
    assert [op for m, _, op in fake_cvat.operations if m == "DELETE"] == ["tasks_destroy"]
    handle = annotator.submit(KEY, ids, {})
    assert [len(task.frames) for task in fake_cvat.tasks.values()] == [2]
    assert annotator.poll(handle).total == 2


@pytest.mark.parametrize("refusal", ["upload", "creation"])
def test_an_upload_the_server_refused_or_could_not_process_leaves_no_empty_task(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime, refusal: str
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    if refusal == "upload":
        fake_cvat.inject("POST", "/data/", status=400)
    else:  # accepted (202), then the server's background request fails
        fake_cvat.fail_next_creation("ValueError: No media data found\n")
    with pytest.raises(AnnotationConfigError):
        annotator.submit(KEY, ids, {})
    assert fake_cvat.tasks == {}
    handle = annotator.submit(KEY, ids, {})
    assert [len(task.frames) for task in fake_cvat.tasks.values()] == [2]
    assert annotator.poll(handle).total == 2


def test_a_crash_before_the_images_were_attached_replaces_the_empty_task(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    fake_cvat.inject("POST", "/data/", status=503, times=3)
    fake_cvat.inject("DELETE", "/api/tasks/", status=503, times=3)  # the clean-up fails too
    with pytest.raises(AnnotationServerUnavailable):
        annotator.submit(KEY, ids, {})
    assert [len(task.frames) for task in fake_cvat.tasks.values()] == [0]
    handle = annotator.submit(KEY, ids, {})
    assert [len(task.frames) for task in fake_cvat.tasks.values()] == [2]
    assert annotator.poll(handle).total == 2


def test_a_reopened_job_makes_the_batch_unfinished_again(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:3]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, {})
    human = label_everything(fake_cvat)
    assert annotator.poll(handle).done
    job_id = min(fake_cvat.jobs)
    human.set_job(job_id, state="rejected", stage="annotation")
    assert annotator.poll(handle) == AnnotationProgress(completed=1, total=3)
    with pytest.raises(AnnotationNotReady, match="rejected"):
        annotator.fetch(handle)
    human.set_job(job_id, state="completed")
    assert set(annotator.fetch(handle)) == set(ids)


def test_acceptance_mode_waits_for_the_acceptance_stage(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:2]
    annotator = make_annotator(store, fake_cvat, virtual_time, done_when="acceptance")
    handle = annotator.submit(KEY, ids, {})
    human = label_everything(fake_cvat, stage="annotation")
    assert not annotator.poll(handle).done
    for job_id in fake_cvat.jobs:
        human.set_job(job_id, stage="acceptance", state="completed")
    assert annotator.poll(handle).done


def test_an_image_deleted_in_cvat_stays_unlabeled(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    ids = store.ids("pool")[:3]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, {})
    task = next(iter(fake_cvat.tasks.values()))
    gone = task.frames[1]["name"].split(".")[0]
    fake_cvat.delete_frame(task.id, 1)
    label_everything(fake_cvat)
    with capture_logs() as logs:
        labels = annotator.fetch(handle)
    assert set(labels) == set(ids) - {gone}
    warning = next(e for e in logs if e["event"] == "cvat_images_without_labels")
    assert warning["sample_ids"] == [gone]


def test_a_task_deleted_on_the_server_is_a_permanent_error(
    store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, store.ids("pool")[:1], {})
    fake_cvat.tasks.clear()
    fake_cvat.jobs.clear()
    with pytest.raises(AnnotationConfigError, match="deleted"):
        annotator.poll(handle)
    assert fake_cvat.operations[-1] == (
        "GET",
        f"/api/tasks/{handle_task(handle)}",
        "tasks_retrieve",
    )


def handle_task(handle: str) -> int:
    return CvatHandle.loads(handle).task_ids[0]


def test_servers_before_the_requests_api_work_too(
    store: FiftyOneStore, virtual_time: VirtualTime
) -> None:
    fake = FakeCvat(version="2.11.0").start()
    try:
        fake.add_user(BOT, BOT_PASSWORD)
        fake.add_user(HUMAN, HUMAN_PASSWORD)
        ids = store.ids("pool")[:2]
        annotator = make_annotator(store, fake, virtual_time)
        handle = annotator.submit(KEY, ids, {})
        assert fake.count("GET", "/api/requests/.*") == 0
        label_everything(fake)
        assert set(annotator.fetch(handle)) == set(ids)
    finally:
        fake.stop()


def test_servers_older_than_2_4_are_refused(
    store: FiftyOneStore, virtual_time: VirtualTime
) -> None:
    fake = FakeCvat(version="2.3.0").start()
    try:
        fake.add_user(BOT, BOT_PASSWORD)
        with pytest.raises(AnnotationConfigError, match=r"2\.4 or later"):
            make_annotator(store, fake, virtual_time).submit(KEY, store.ids("pool")[:1], {})
    finally:
        fake.stop()


def test_every_request_of_a_round_passes_cvat_s_own_schema(
    fo: Any, store: FiftyOneStore, fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    """The fake refuses what CVAT 2.23.1's schema refuses (an upload part without
    ``image_quality`` first of all); the client's whole round goes through."""
    ids = store.ids("pool")[:3]
    annotator = make_annotator(store, fake_cvat, virtual_time)
    handle = annotator.submit(KEY, ids, make_prelabels(fo, store, ids))
    submitted = len(fake_cvat.operations)
    label_everything(fake_cvat)
    human = len(fake_cvat.operations)
    assert annotator.poll(handle).done
    assert set(annotator.fetch(handle)) == set(ids)
    client = fake_cvat.operations[:submitted] + fake_cvat.operations[human:]
    cleanup = {("GET", "tasks_retrieve"), ("DELETE", "tasks_destroy")}  # see the tests above
    assert {(method, op) for method, _, op in client} == CLIENT_OPERATIONS - cleanup
    assert ("POST", "/api/tasks/1/data/", "tasks_create_data") in client


#: Every CVAT endpoint the client calls, by the schema operation it is validated against.
CLIENT_OPERATIONS = {
    ("POST", "auth_create_login"),
    ("GET", "server_retrieve_about"),
    ("GET", "tasks_list"),
    ("POST", "tasks_create"),
    ("GET", "tasks_retrieve"),
    ("DELETE", "tasks_destroy"),
    ("POST", "tasks_create_data"),
    ("GET", "requests_retrieve"),
    ("GET", "labels_list"),
    ("GET", "jobs_list"),
    ("GET", "jobs_retrieve_data_meta"),
    ("GET", "jobs_retrieve_annotations"),
    ("PUT", "jobs_update_annotations"),
}
