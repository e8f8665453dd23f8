"""The original module's README usage, with only its import lines changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.fiftyone_store import FiftyOneStore
from al_object_detection.data.yolo import read_yolo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def project(
    tmp_path: Path, dataset_name: str, shapes_dir: Path, tiny_weights: Path, monkeypatch: Any
) -> str:
    """A folder laid out like the seed's checkout: weights and the config where it expects."""
    FiftyOneStore.open(dataset_name, create=True).add(read_yolo(shapes_dir))
    shutil.copyfile(tiny_weights, tmp_path / "yolov8l.pt")
    config = tmp_path / "al_object_detection" / "config" / "yolo_config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[train]\nepochs = 1\nimgsz = 64\nbatch = 8\nworkers = 0\nplots = false\n"
        "[predict]\nimgsz = 64\nconf = 0.001\nmax_det = 10\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_USERNAME", "FIFTYONE_CVAT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return dataset_name


def test_the_seed_snippet_runs_with_the_simulated_annotator(project: str) -> None:
    import fiftyone as fo

    from al_object_detection import (
        DiversitySampler,
        ObjectDetectionActiveLearner,
        OracleAnnotator,
        Sampler,
        UncertaintySampler,
        YOLOv8_ALObjectDetector,
    )

    dataset = fo.load_dataset(project)

    # Predictor
    predictor = YOLOv8_ALObjectDetector(
        model_path="./yolov8l.pt", model_config="./al_object_detection/config/yolo_config.toml"
    )

    # Sampler
    uncertainty_sampler = UncertaintySampler()
    diversity_sampler = DiversitySampler()
    sampler = Sampler([uncertainty_sampler, diversity_sampler])

    # Active Learner
    al = ObjectDetectionActiveLearner(
        dataset, predictor=predictor, sampler=sampler, annotator=OracleAnnotator(dataset),
        budget=4, rounds=1,
    )  # fmt: skip

    al.run_active_learning()

    state = Path("cache") / f"{project}_al_state.sqlite"
    assert state.is_file()
    assert dataset.count_values("al_split")["labeled"] == 8

    al = ObjectDetectionActiveLearner.from_cache(f"./cache/{project}_al_state.sqlite")
    rounds = al.run_active_learning()
    assert [r.state for r in rounds] == ["completed", "completed"]


def test_without_an_annotator_the_default_cvat_says_it_is_not_configured(project: str) -> None:
    import fiftyone as fo

    from al_object_detection import ObjectDetectionActiveLearner, YOLOv8_ALObjectDetector

    predictor = YOLOv8_ALObjectDetector(
        model_path="./yolov8l.pt", model_config="./al_object_detection/config/yolo_config.toml"
    )
    assert "FIFTYONE_CVAT_URL" not in os.environ
    with pytest.raises(Exception, match="FIFTYONE_CVAT") as raised:
        ObjectDetectionActiveLearner(fo.load_dataset(project), predictor=predictor)
    assert "prompt" not in str(raised.value).lower()
