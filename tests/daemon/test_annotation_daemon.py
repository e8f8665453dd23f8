"""``alod run`` with CVAT: the daemon's real two processes against the schema-validated fake.

The worker process predicts (and so adds the predictions field) while the daemon's own process
submits the batch: the pre-labels must arrive all the same. Then the faults a real server
showed: an upload refused (no empty task stays), a rotated password (the round waits for an
operator, no attempt spent, and resumes on the SAME task once ``.env`` is fixed), an operator's
``retry`` after a failed poll (it reattaches to the same task), and the human's edits imported.
The same first run with a real Label Studio: its tasks carry the pre-labels as predictions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.cli import main
from al_object_detection.daemon.settings import load_config
from al_object_detection.daemon.status import collect_status, render_status
from al_object_detection.states.store import RoundStore
from tests.adapters.annotation.cvat_human import CvatHuman
from tests.adapters.annotation.fake_cvat import FakeCvat
from tests.adapters.annotation.label_studio_server import label_studio_venv, new_server

from .running import RunningDaemon
from .tiny import load_shapes, write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]

BOT, HUMAN, HUMAN_PASSWORD = "alod-bot", "annotator1", "human-Pass-123"
FIRST_PASSWORD, ROTATED_PASSWORD = "bot-Pass-123", "bot-Rotated-456"
DRAWN = [1.5, 2.25, 33.0, 40.5]  # pixel corners the human draws on every image


def write_env(folder: Path, url: str, password: str) -> None:
    lines = [f"FIFTYONE_CVAT_URL={url}", f"FIFTYONE_CVAT_USERNAME={BOT}"]
    (folder / ".env").write_text("\n".join([*lines, f"FIFTYONE_CVAT_PASSWORD={password}", ""]))


def round_state(state_file: Path) -> tuple[int, str, int] | None:
    current = RoundStore(state_file).current() if state_file.exists() else None
    return (current.round, current.state, current.attempt) if current else None


def expected_prelabels(dataset: str, picked: list[str]) -> int:
    """Boxes the model predicted for the picks (threshold 0, at most 100 per image)."""
    store = FiftyOneStore.open(dataset)  # loaded here before the worker added the field
    found = store.predictions(picked)
    classes = set(store.classes)
    return sum(
        min(100, sum(1 for d in (p.detections if p else ()) if d.label in classes)) for p in found
    )


@pytest.fixture
def fake_cvat() -> Any:
    server = FakeCvat().start()
    server.add_user(BOT, FIRST_PASSWORD)
    server.add_user(HUMAN, HUMAN_PASSWORD)
    yield server
    server.stop()
    assert server.response_errors == []


def project_sections(backend: str, weights: Path) -> dict[str, dict[str, Any]]:
    """Round 0 picked by the model (so the worker predicts first), pre-labels of any score."""
    annotation = {
        "backend": backend, "max_attempts": 2, "prelabel_threshold": 0.0, "task_size": 4,
        "job_size": 2,
    }  # fmt: skip
    return {
        "detector": {"model": str(weights)},
        "sampling": {"bootstrap": "model", "budget": 4, "bootstrap_size": 4},
        "annotation": annotation,
        "stop": {"max_rounds": 0},
    }


def test_a_cvat_round_survives_refusals_and_keeps_the_human_s_work(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, tiny_weights: Path, fake_cvat: FakeCvat
) -> None:
    load_shapes(fresh_dataset, shapes_dir)
    sections = project_sections("cvat", tiny_weights)
    config = write_project(tmp_path, fresh_dataset, sections=sections)
    state_file = tmp_path / "state" / "tiny.sqlite"
    write_env(tmp_path, fake_cvat.url, FIRST_PASSWORD)
    fake_cvat.inject("POST", r"^/api/tasks/\d+/data/$", status=400)  # the first upload fails

    daemon = RunningDaemon(config, tmp_path / "run.log", cwd=tmp_path)
    try:
        # one uninterrupted run: the worker predicted, the daemon's process submitted
        daemon.event("cvat_batch_submitted", timeout_s=300)
        assert round_state(state_file) == (0, "annotating", 2)
        (task,) = fake_cvat.tasks.values()  # the refused upload's task was deleted
        assert (len(task.frames), fake_cvat.count("POST", "/api/tasks")) == (4, 2)
        failures = [e for e in daemon.events() if "annotating failed" in str(e["event"])]
        assert [e["level"] for e in failures] == ["error"]
        picked = RoundStore(state_file).current().picked  # type: ignore[union-attr]
        shapes = [s for job in fake_cvat.jobs.values() for s in job.shapes]
        assert {s["source"] for s in shapes} == {"auto"}
        assert len(shapes) == expected_prelabels(fresh_dataset, picked) > 0

        # the bot's password is rotated on the server: the round waits, no attempt is spent
        fake_cvat.users[BOT]["password"] = ROTATED_PASSWORD
        fake_cvat.expire_sessions()
        waiting = daemon.event("round_waits_for_operator", timeout_s=60)
        assert waiting["level"] == "error"
        logins = fake_cvat.count("POST", "/api/auth/login")
        daemon.wait_for(lambda: fake_cvat.count("POST", "/api/auth/login") >= logins + 2)
        assert round_state(state_file) == (0, "annotating", 2)
        status = daemon.wait_for(lambda: _status_with_error(config), timeout_s=30)
        assert "WAITING FOR OPERATOR" in render_status(status)
        job_ids = sorted(fake_cvat.jobs)
        links = status["annotation"][0]["links"]
        assert links[0] == f"{fake_cvat.url}/tasks/{task.id}"
        assert links[1:] == [f"{fake_cvat.url}/tasks/{task.id}/jobs/{j}" for j in job_ids]

        # meanwhile the human works; the operator fixes .env: the SAME task is polled again
        human = CvatHuman(fake_cvat.url, HUMAN, HUMAN_PASSWORD)
        for job_id in job_ids:
            human.annotate(job_id, lambda *_: [("square", list(DRAWN))])
        write_env(tmp_path, fake_cvat.url, ROTATED_PASSWORD)
        daemon.event("operator_wait_over", timeout_s=60)
        daemon.wait_for(lambda: _status_with_error(config) is None, timeout_s=30)

        # a poll refused for another reason fails the last attempt; a retry reattaches
        fake_cvat.inject("GET", "^/api/jobs$", status=400)
        daemon.event("round_needs_operator", timeout_s=60)
        retry = ["override", "--config", str(config), "retry", "--reason", "fixed", "--yes"]
        assert main(retry) == 0
        daemon.wait_for(lambda: round_state(state_file) == (0, "annotating", 3))
        polls = fake_cvat.count("GET", "^/api/jobs$")
        daemon.wait_for(lambda: fake_cvat.count("GET", "^/api/jobs$") > polls)
        assert [t.id for t in fake_cvat.tasks.values()] == [task.id]
        assert fake_cvat.count("POST", "/api/tasks") == 2

        for job_id in job_ids:
            human.set_job(job_id, assignee=fake_cvat.users[HUMAN]["id"], state="completed")
        daemon.wait_for(
            lambda: (round_state(state_file) or (0, "", 0))[1] in ("training", "evaluating"),
            timeout_s=120,
        )
        assert daemon.stop() == 0
    finally:
        daemon.close()

    store = FiftyOneStore.open(fresh_dataset)
    store.dataset.reload()
    drawn = [DRAWN[0] / 64, DRAWN[1] / 64, (DRAWN[2] - DRAWN[0]) / 64, (DRAWN[3] - DRAWN[1]) / 64]
    labels = store.dataset.select(picked, ordered=True).values(store.fields.ground_truth)
    for boxes in labels:
        assert any(d.bounding_box == drawn and d.annotator == HUMAN for d in boxes.detections)


def _status_with_error(config: Path) -> dict[str, Any] | None:
    status = collect_status(load_config(config))
    error = status["last_error"] or ""
    return status if error.startswith("waiting for operator") else None


def test_label_studio_gets_the_pre_labels_in_the_first_uninterrupted_run(
    tmp_path: Path, fresh_dataset: str, tiny_weights: Path
) -> None:
    import requests

    from al_object_detection.data.shapes import make_shapes

    (tmp_path / "ls").mkdir()
    server = new_server(label_studio_venv(), tmp_path / "ls")
    server.start()
    try:
        store = FiftyOneStore.open(fresh_dataset, create=True)
        store.add(make_shapes(server.document_root / "shapes", n_images=16, image_size=64))
        sections = project_sections("labelstudio", tiny_weights)
        config = write_project(tmp_path, fresh_dataset, sections=sections)
        (tmp_path / ".env").write_text(
            f"FIFTYONE_LABELSTUDIO_URL={server.url}\n"
            f"FIFTYONE_LABELSTUDIO_API_KEY={server.token}\n"
            f"LOCAL_FILES_DOCUMENT_ROOT={server.document_root}\n"
        )
        daemon = RunningDaemon(config, tmp_path / "run.log", cwd=tmp_path)
        try:
            submitted = daemon.event("label_studio_batch_submitted", timeout_s=300)
            assert daemon.stop() == 0
        finally:
            daemon.close()
        params: dict[str, Any] = {"project": submitted["project_id"], "fields": "all"}
        tasks = requests.get(
            f"{server.url}/api/tasks",
            params={**params, "page_size": 100},
            headers={"Authorization": f"Token {server.token}"},
            timeout=10,
        ).json()["tasks"]
        picked = [task["data"]["sample_id"] for task in tasks]
        boxes = sum(len(p["result"]) for task in tasks for p in task["predictions"])
        assert len(picked) == 4
        assert boxes == expected_prelabels(fresh_dataset, picked) > 0
    finally:
        server.stop()
