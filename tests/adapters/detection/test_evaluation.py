from __future__ import annotations

import math
from typing import Any

import pytest

from al_object_detection.adapters.detection.evaluation import evaluate_detections

pytestmark = pytest.mark.integration


def make_dataset(fo: Any, name: str, predictions: str) -> Any:
    dataset = fo.Dataset(name)
    samples = []
    for i in range(4):
        truth = [fo.Detection(label="cat", bounding_box=[0.1, 0.1, 0.3, 0.3])]
        if i % 2:
            truth.append(fo.Detection(label="dog", bounding_box=[0.5, 0.5, 0.4, 0.4]))
        guesses = {
            "perfect": [
                fo.Detection(label=d.label, bounding_box=d.bounding_box, confidence=0.9)
                for d in truth
            ],
            "none": [],
            "cats_only": [
                fo.Detection(label="cat", bounding_box=[0.1, 0.1, 0.3, 0.3], confidence=0.9)
            ],
        }[predictions]
        samples.append(
            fo.Sample(
                filepath=f"/images/{i}.png",
                ground_truth=fo.Detections(detections=truth),
                predictions=fo.Detections(detections=guesses),
            )
        )
    dataset.add_samples(samples, progress=False)
    return dataset


def evaluate(dataset: Any, classes: list[str]) -> Any:
    return evaluate_detections(
        dataset, pred_field="predictions", gt_field="ground_truth", classes=classes
    )


def test_perfect_predictions_score_one(fo: Any, dataset_name: str) -> None:
    metrics = evaluate(make_dataset(fo, dataset_name, "perfect"), ["cat", "dog"])
    assert metrics.map50 == pytest.approx(1.0)
    assert metrics.map50_95 == pytest.approx(1.0)
    assert metrics.n_images == 4


def test_no_predictions_score_zero(fo: Any, dataset_name: str) -> None:
    metrics = evaluate(make_dataset(fo, dataset_name, "none"), ["cat", "dog"])
    assert metrics.map50 == 0.0
    assert metrics.map50_95 == 0.0


def test_per_class_scores_and_absent_classes(fo: Any, dataset_name: str) -> None:
    metrics = evaluate(make_dataset(fo, dataset_name, "cats_only"), ["cat", "dog", "bird"])
    assert metrics.per_class["cat"] == pytest.approx((1.0, 1.0))
    assert metrics.per_class["dog"] == (0.0, 0.0)
    assert all(math.isnan(v) for v in metrics.per_class["bird"])  # no ground truth: not averaged
    assert metrics.map50 == pytest.approx(0.5)
    assert metrics.as_dict()["per_class"]["cat"]["map50"] == pytest.approx(1.0)


def test_empty_view_is_refused(fo: Any, dataset_name: str) -> None:
    dataset = fo.Dataset(dataset_name)
    with pytest.raises(ValueError, match="empty validation split"):
        evaluate(dataset, ["cat"])
