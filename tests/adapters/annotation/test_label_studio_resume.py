"""A Label Studio run resumed with ``from_cache`` gets Label Studio back and finishes the round
on the project it made, against a real Label Studio; so does a state file the previous version
wrote (the annotator's class name in its recipe, ``label_studio`` in its stored handle)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.backends import backend
from al_object_detection.adapters.annotation.label_studio.annotator import (
    LabelStudioAnnotator,
    LabelStudioHandle,
)
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
from al_object_detection.learner import ObjectDetectionActiveLearner
from al_object_detection.states import machine as m
from al_object_detection.states.engine import WAIT

from .label_studio_server import LabelStudioServer
from .test_label_studio import Human

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BUDGET = 3


@pytest.fixture
def state(
    ls_store: FiftyOneStore,
    label_studio: LabelStudioServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A learner's state file whose round 0 waits on its Label Studio project."""
    monkeypatch.chdir(tmp_path)  # no .env of the caller's
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_URL", label_studio.url)
    monkeypatch.setenv("FIFTYONE_LABELSTUDIO_API_KEY", label_studio.token)
    monkeypatch.setenv("LOCAL_FILES_DOCUMENT_ROOT", str(label_studio.document_root))
    config = parse_yolo_config({"train": {"epochs": 1}, "predict": {"imgsz": 64}})
    detector = YOLOv8_ALObjectDetector("yolov8n.yaml", config, work_dir=tmp_path / "det")
    made = ObjectDetectionActiveLearner(
        ls_store, detector, annotator=backend("labelstudio").build(ls_store), budget=BUDGET,
        rounds=0, poll_interval_s=0, state_path=tmp_path / "state.sqlite", log=lambda _: None,
    )  # fmt: skip
    while made.engine.step().trigger != WAIT:
        pass  # opened, bootstrapped, sampled, then submitted and polled
    assert made.rounds.current().state == m.ANNOTATING  # type: ignore[union-attr]
    made.rounds.close()
    return tmp_path / "state.sqlite"


def resume_and_label(state: Path, label_studio: LabelStudioServer) -> ObjectDetectionActiveLearner:
    """``from_cache`` in a new learner; a human labels the project; the round imports."""
    resumed = ObjectDetectionActiveLearner.from_cache(state, log=lambda _: None)
    assert type(resumed.engine.ctx.annotator) is LabelStudioAnnotator
    assert resumed.engine.step().trigger == WAIT  # it polls the project the first run made
    human = Human(label_studio)
    for task in human.tasks(project_of(resumed)):
        human.annotate(task)
    while resumed.rounds.current().state != m.TRAINING:  # type: ignore[union-attr]
        resumed.engine.step()
    return resumed


def project_of(learner: ObjectDetectionActiveLearner) -> int:
    (submitted,) = [i for i in learner.rounds.intents(0) if i["kind"] == "annotate"]
    return LabelStudioHandle.loads(submitted["result"]).project_id


def test_a_resumed_label_studio_run_finishes_its_round_on_label_studio(
    state: Path, label_studio: LabelStudioServer, ls_store: FiftyOneStore
) -> None:
    resumed = resume_and_label(state, label_studio)
    assert resumed.spec.annotation.backend == "labelstudio"
    assert ls_store.counts()["labeled"] == BUDGET


def test_a_state_file_of_the_previous_version_resumes_on_label_studio_too(
    state: Path, label_studio: LabelStudioServer, ls_store: FiftyOneStore
) -> None:
    write_as_previous_version(state)
    resumed = resume_and_label(state, label_studio)
    assert resumed.spec.annotation.backend == "labelstudio"
    assert ls_store.counts()["labeled"] == BUDGET


def write_as_previous_version(state: Path) -> None:
    """The recipe and the stored handle as the previous version wrote them."""
    db = sqlite3.connect(state)
    spec = json.loads(db.execute("SELECT value FROM meta WHERE key = 'recipe'").fetchone()[0])
    plan, stop = spec["plan"], spec["plan"]["stop"]
    former: dict[str, Any] = {
        "dataset": spec["dataset"], "model_path": spec["detector"]["model"],
        "model_config": spec["detector"]["config"],
        "detector_work_dir": spec["detector"]["work_dir"], "sampler": plan["strategy"],
        "annotator": "LabelStudioAnnotator", "zero_shot_config": None,
        "workdir": spec["paths"]["work_dir"],
        "plan": {"budget": plan["budget"], "max_rounds": stop["max_rounds"],
                 "bootstrap": plan["bootstrap"], "bootstrap_size": plan["bootstrap_size"],
                 "label_budget": stop["label_budget"], "target_map50_95": stop["target_map50_95"],
                 "seed": plan["seed"], "poll_interval_s": plan["poll_interval_s"]},
    }  # fmt: skip
    (key, result) = db.execute("SELECT key, result FROM intents WHERE kind = 'annotate'").fetchone()
    handle = json.loads(json.loads(result))
    assert handle["backend"] == "labelstudio"
    former_handle = json.dumps({**handle, "backend": "label_studio"})
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'recipe'", (json.dumps(former),))
        db.execute("DELETE FROM meta WHERE key = 'project'")  # it bound the dataset only
        db.execute("UPDATE intents SET result = ? WHERE key = ?", (json.dumps(former_handle), key))
    db.close()
