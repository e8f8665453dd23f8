"""``from_cache`` rebuilds the run a learner was made with from its stored spec: the same
annotation backend (from one name table), strategy, plan and paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.backends import BACKENDS, UnknownBackendError, backend
from al_object_detection.learner import NotConfiguredError, ObjectDetectionActiveLearner

SERVER_SETTINGS = {
    "FIFTYONE_CVAT_URL": "http://127.0.0.1:9",
    "FIFTYONE_CVAT_USERNAME": "annotator",
    "FIFTYONE_CVAT_PASSWORD": "not-a-real-password",
    "FIFTYONE_LABELSTUDIO_URL": "http://127.0.0.1:9",
    "FIFTYONE_LABELSTUDIO_API_KEY": "not-a-real-key",
}


@pytest.fixture
def parts(tmp_path: Path, dataset_name: str, monkeypatch: Any) -> tuple[Any, Any, Path]:
    """A real FiftyOne store, an untrained detector and a state path; servers set by env."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore
    from al_object_detection.adapters.detection.config import parse_yolo_config
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

    monkeypatch.chdir(tmp_path)  # no .env of the caller's
    for name, value in SERVER_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOCAL_FILES_DOCUMENT_ROOT", str(tmp_path))
    store = FiftyOneStore.open(dataset_name, create=True)
    config = parse_yolo_config({"train": {"epochs": 1}, "predict": {"imgsz": 64}})
    detector = YOLOv8_ALObjectDetector("yolov8n.yaml", config, work_dir=tmp_path / "det")
    return store, detector, tmp_path / "state.sqlite"


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_a_resumed_learner_gets_the_backend_and_spec_it_was_made_with(
    parts: tuple[Any, Any, Path], name: str
) -> None:
    store, detector, state = parts
    annotator = backend(name).build(store)
    made = ObjectDetectionActiveLearner(
        store, detector, annotator=annotator, state_path=state, budget=5, rounds=2
    )

    resumed = ObjectDetectionActiveLearner.from_cache(state, log=lambda _: None)

    assert type(resumed.engine.ctx.annotator) is type(annotator)
    assert type(annotator).__name__ == BACKENDS[name].class_name
    assert resumed.spec == made.spec
    assert (resumed.spec.annotation.backend, resumed.spec.paths.state_file) == (name, state)
    assert (resumed.engine.plan.budget, resumed.engine.plan.stop.max_rounds) == (5, 2)


def test_a_custom_annotator_must_be_passed_again(parts: tuple[Any, Any, Path]) -> None:
    from al_object_detection.adapters.annotation.oracle import OracleAnnotator

    class ReviewedOracle(OracleAnnotator):
        pass

    store, detector, state = parts
    ObjectDetectionActiveLearner(store, detector, annotator=ReviewedOracle(store), state_path=state)
    with pytest.raises(
        NotConfiguredError, match=r"custom annotator \(ReviewedOracle\).*annotator="
    ):
        ObjectDetectionActiveLearner.from_cache(state)
    resumed = ObjectDetectionActiveLearner.from_cache(state, annotator=ReviewedOracle(store))
    assert type(resumed.engine.ctx.annotator) is ReviewedOracle


def test_an_unknown_backend_name_is_refused_with_the_known_ones(
    parts: tuple[Any, Any, Path],
) -> None:
    with pytest.raises(UnknownBackendError, match=r"'label-studio'.* oracle, cvat, labelstudio"):
        backend("label-studio")


def test_the_original_pickle_path_names_the_state_file_to_pass(
    parts: tuple[Any, Any, Path],
) -> None:
    store, detector, state = parts
    pickle = state.with_suffix(".pkl")
    with pytest.raises(ValueError, match=r"pickled state.*from_cache\(.*state\.sqlite'\).*start"):
        ObjectDetectionActiveLearner.from_cache(pickle)

    ObjectDetectionActiveLearner(
        store, detector, annotator=backend("oracle").build(store), state_path=state
    )
    with pytest.raises(ValueError, match=r"SQLite.*from_cache\(.*state\.sqlite'\) \(it is there"):
        ObjectDetectionActiveLearner.from_cache(pickle)
