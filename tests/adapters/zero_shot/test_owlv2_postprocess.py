from __future__ import annotations

import numpy as np
import pytest
import torch

from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.adapters.zero_shot.config import PredictSettings
from al_object_detection.adapters.zero_shot.postprocess import to_prediction

SETTINGS = PredictSettings(threshold=0.2, nms_iou=0.5, max_det=10)


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def predict(
    logits: list[list[float]], boxes: list[list[float]], **settings: float
) -> ImagePrediction:
    return to_prediction(
        "a.png",
        (200, 100),
        torch.tensor([[logit(p) for p in row] for row in logits]),
        torch.tensor(boxes),
        torch.ones(8),
        PredictSettings(**{**SETTINGS.__dict__, **settings}),
    )


def test_boxes_scale_by_the_longer_side_and_clip_to_the_image() -> None:
    # padded square is 200 x 200: (0.5, 0.25, 0.2, 0.1) -> x 80..120, y 40..60
    result = predict([[0.9, 0.3]], [[0.5, 0.25, 0.2, 0.1]])
    np.testing.assert_allclose(result.boxes_xyxy, [[80, 40, 120, 60]], atol=1e-4)
    np.testing.assert_allclose(result.class_scores, [[0.9, 0.3]], atol=1e-6)
    assert result.label_ids.tolist() == [0]
    assert result.confidences.dtype == np.float32
    assert result.embedding is not None
    assert result.embedding.shape == (8,)
    clipped = predict([[0.9, 0.3]], [[0.05, 0.45, 0.2, 0.2]])  # reaches past the left and bottom
    np.testing.assert_allclose(clipped.boxes_xyxy, [[0, 70, 30, 100]], atol=1e-4)


def test_boxes_in_the_padding_threshold_and_max_det_drop_boxes() -> None:
    boxes = [[0.5, 0.9, 0.1, 0.1], [0.2, 0.2, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1], [0.8, 0.2, 0.1, 0.1]]
    logits = [[0.9, 0.1], [0.1, 0.15], [0.5, 0.1], [0.1, 0.7]]
    result = predict(logits, boxes)  # the first lies below the 100 px tall image
    assert result.label_ids.tolist() == [1, 0]
    np.testing.assert_allclose(result.confidences, [0.7, 0.5], atol=1e-6)
    assert predict(logits, boxes, max_det=1).label_ids.tolist() == [1]
    assert predict(logits, boxes, threshold=0.8).label_ids.tolist() == []
    assert predict(logits, boxes, threshold=0.8).class_scores.shape == (0, 2)


@pytest.mark.parametrize(("labels", "kept"), [((0, 0), [0]), ((0, 1), [0, 1])])
def test_suppression_works_within_each_class_only(labels: tuple[int, int], kept: list[int]) -> None:
    logits = [[0.9 if c == labels[0] else 0.01 for c in range(2)]]
    logits += [[0.8 if c == labels[1] else 0.01 for c in range(2)]]
    box = [0.5, 0.25, 0.2, 0.2]
    result = predict(logits, [box, [0.51, 0.25, 0.2, 0.2]])
    np.testing.assert_allclose(result.confidences, [0.9, 0.8][: len(kept)], atol=1e-6)
    assert result.label_ids.tolist() == [labels[i] for i in kept]
