"""The seed's zero-shot bootstrap (its README's second snippet, import lines changed), then
normal rounds from the same state file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.data.yolo import read_yolo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def project(
    tmp_path: Path,
    dataset_name: str,
    shapes_dir: Path,
    tiny_weights: Path,
    tiny_owlv2: Path,
    monkeypatch: Any,
) -> str:
    FiftyOneStore.open(dataset_name, create=True).add(read_yolo(shapes_dir))
    shutil.copyfile(tiny_weights, tmp_path / "yolov8l.pt")
    config = tmp_path / "al_object_detection" / "config"
    config.mkdir(parents=True)
    (config / "yolo_config.toml").write_text(
        "[train]\nepochs = 1\nimgsz = 64\nbatch = 8\nworkers = 0\nplots = false\n"
        "[predict]\nimgsz = 64\nconf = 0.001\nmax_det = 10\n"
    )
    (config / "owl2_config.toml").write_text(
        f'[model]\nweights = "{tiny_owlv2}"\ndevice = "cpu"\n'
        "[predict]\nthreshold = 0.0\nmax_det = 5\n"
        '[classes]\nnames = ["square", "disc", "triangle"]\n'
    )
    monkeypatch.chdir(tmp_path)
    return dataset_name


def test_zero_shot_bootstrap_then_normal_rounds(project: str) -> None:
    import fiftyone as fo

    from al_object_detection import (
        ObjectDetectionActiveLearner,
        OracleAnnotator,
        RandomSampler,
        Sampler,
        YOLOv8_ALObjectDetector,
        ZeroShot_ALObjectDetector,
        ZeroShotModelInitializer,
    )

    dataset = fo.load_dataset(project)

    # Zero-Shot model
    zero_shot_model = ZeroShot_ALObjectDetector("./al_object_detection/config/owl2_config.toml")

    # AL Model
    al_model = YOLOv8_ALObjectDetector(
        model_path="./yolov8l.pt", model_config="./al_object_detection/config/yolo_config.toml"
    )

    # Sampler
    random_sampler = RandomSampler()
    sampler = Sampler([random_sampler])

    al_initializer = ZeroShotModelInitializer(
        dataset=dataset, zero_shot_model=zero_shot_model, al_model=al_model, sampler=sampler,
        annotator=OracleAnnotator(dataset), budget=6,
    )  # fmt: skip

    weights = al_initializer.run_model_initialization()

    assert weights.is_file()
    assert dataset.count_values("al_split")["labeled"] == 6
    rounds = al_initializer.learner.rounds
    assert [t.to_state for t in rounds.transitions(0)][:3] == ["pending", "predicting", "sampling"]
    labeled = dataset.match({"al_split": "labeled"})
    assert set(labeled.values("prediction_model")) == {zero_shot_model.model_id}
    annotate_intent = next(i for i in rounds.intents(0) if i["kind"] == "annotate")
    assert annotate_intent["result"] is not None

    # the normal rounds continue from round 0 in the same state file
    al = ObjectDetectionActiveLearner(
        dataset, predictor=al_model, sampler=Sampler([RandomSampler()]),
        annotator=OracleAnnotator(dataset), budget=4, rounds=1,
    )  # fmt: skip
    rounds = al.run_active_learning()
    assert [r.state for r in rounds] == ["completed", "completed"]
    assert dataset.count_values("al_split")["labeled"] == 10
    assert [t.to_state for t in al.rounds.transitions(1)][:3] == [
        "pending",
        "predicting",
        "sampling",
    ]
    picked1 = dataset.match({"al_round": 1})  # random picks: only they are predicted (pre-labels)
    assert set(picked1.values("prediction_model")) == {str(weights)}
    pool = dataset.match({"al_split": "pool"})
    assert set(pool.values("prediction_model")) == {None}
