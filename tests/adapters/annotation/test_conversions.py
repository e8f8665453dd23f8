"""Box conversions, pre-label knobs and the Label Studio config: pure functions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest

from al_object_detection.adapters.annotation.cvat.shapes import prelabel_shape, to_box, to_points
from al_object_detection.adapters.annotation.label_studio.annotator import project_title
from al_object_detection.adapters.annotation.label_studio.results import (
    label_config,
    prediction,
    result_box,
)
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings


def box(label: str, bounding_box: list[float], confidence: float | None = None) -> Any:
    return SimpleNamespace(label=label, bounding_box=bounding_box, confidence=confidence)


def test_cvat_pixel_corners_become_relative_boxes_without_rounding() -> None:
    assert to_box([10.0, 20.0, 110.0, 120.0], 320, 240) == [
        10 / 320,
        20 / 240,
        100 / 320,
        100 / 240,
    ]
    assert to_points([0.25, 0.5, 0.5, 0.25], 64, 32) == [16.0, 16.0, 48.0, 24.0]
    relative = [0.1234, 0.3456, 0.4321, 0.1111]
    assert to_box(to_points(relative, 333, 777), 333, 777) == pytest.approx(relative, abs=1e-12)


def test_cvat_boxes_are_clipped_and_rotations_enclosed() -> None:
    assert to_box([-10.0, 5.0, 50.0, 300.0], 100, 200) == [0.0, 0.025, 0.5, 0.975]
    assert to_box([120.0, 5.0, 150.0, 30.0], 100, 100) is None
    assert to_box([40.0, 45.0, 60.0, 55.0], 100, 100, rotation=90) == pytest.approx(
        [0.45, 0.4, 0.1, 0.2]
    )


def test_cvat_pre_labels_are_marked_automatic() -> None:
    shape = prelabel_shape([0.5, 0.5, 0.25, 0.25], 3, 7, 64, 64)
    assert (shape["source"], shape["frame"], shape["label_id"]) == ("auto", 3, 7)
    assert shape["points"] == [32.0, 32.0, 48.0, 48.0]


def test_label_studio_boxes_round_trip_through_percentages() -> None:
    relative = [0.1234, 0.3456, 0.4321, 0.1111]
    (result,) = prediction([box("cat", relative, 0.8)], "v1")["result"]
    label, found = result_box(result) or ("", [])
    assert label == "cat"
    assert found == pytest.approx(relative, abs=1e-12)
    drawn = {"x": 2.5, "y": 5.0, "width": 40.0, "height": 12.5, "rectanglelabels": ["cat"]}
    item = {"type": "rectanglelabels", "from_name": "label", "value": drawn}
    assert result_box(item) == ("cat", [0.025, 0.05, 0.4, 0.125])


def test_label_studio_rotation_clipping_and_foreign_results() -> None:
    value = {"x": 50, "y": 50, "width": 20, "height": 10, "rotation": 90, "rectanglelabels": ["a"]}
    item = {"type": "rectanglelabels", "from_name": "label", "value": value}
    rotated = result_box({**item, "original_width": 200, "original_height": 100})
    assert rotated is not None
    assert rotated[1] == pytest.approx([0.45, 0.5, 0.05, 0.4])
    off_edge = result_box({**item, "value": {**value, "x": 90, "rotation": 0}})
    assert off_edge is not None
    assert off_edge[1] == pytest.approx([0.9, 0.5, 0.1, 0.1])
    assert result_box({**item, "type": "choices"}) is None
    assert result_box({**item, "from_name": "other"}) is None


def test_the_label_config_lists_every_class_escaped() -> None:
    config = ET.fromstring(label_config(["car", 'a "quoted" & <odd> one']))
    labels = [node.get("value") for node in config.iter("Label")]
    assert labels == ["car", 'a "quoted" & <odd> one']
    rectangles, image = config.find("RectangleLabels"), config.find("Image")
    assert rectangles is not None
    assert image is not None
    assert rectangles.get("toName") == image.get("name")


def test_pre_labels_keep_the_most_confident_known_boxes() -> None:
    detections = SimpleNamespace(
        detections=[
            box("cat", [0, 0, 1, 1], 0.3),
            box("dog", [0, 0, 1, 1], 0.9),
            box("cat", [0, 0, 1, 1], 0.2),
            box("bird", [0, 0, 1, 1], 0.99),
            box("dog", [0, 0, 1, 1], None),
        ]
    )
    knobs = PrelabelSettings(min_confidence=0.25, max_boxes=2)
    kept = knobs.select(detections, ["cat", "dog"])
    assert [(d.label, d.confidence) for d in kept] == [("dog", None), ("dog", 0.9)]
    assert PrelabelSettings(min_confidence=0.25, max_boxes=9).select(detections, ["cat"]) == [
        detections.detections[0]
    ]
    assert knobs.select(None, ["cat"]) == []


def test_project_titles_fit_label_studio_and_stay_deterministic() -> None:
    assert project_title("alod", "p-r1-a0") == "alod:p-r1-a0"
    long_key = "a-very-long-project-name-for-the-dataset/round-0012/attempt-3"
    title = project_title("alod", long_key)
    assert len(title) == 50
    assert title == project_title("alod", long_key) != project_title("alod", long_key + "x")
