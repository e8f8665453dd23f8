"""Pool prediction streams batch by batch, and its progress bar counts the batches done."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

BATCH, IMAGES = 4, 10


def _images(folder: Path) -> list[str]:
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(IMAGES):
        path = folder / f"{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def _shown(err: str, previous: int) -> int:
    """The count the bar shows last in ``err`` (``previous`` when it did not redraw)."""
    counts = re.findall(rf"(\d+)/{IMAGES}\b", err)
    return int(counts[-1]) if counts else previous


@pytest.mark.slow
def test_each_prediction_arrives_with_its_batch_inferred_and_the_bar_at_the_batches_before(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = parse_yolo_config(
        {"predict": {"imgsz": 64, "batch": BATCH, "device": "cpu", "max_det": 5}}
    )
    detector = YOLOv8_ALObjectDetector("yolov8n.yaml", config, work_dir=tmp_path / "detector")
    paths = _images(tmp_path / "images")
    inferred: list[int] = []  # images through the network, batch by batch

    def count(predictor: Any) -> None:
        inferred.append(len(predictor.batch[0]))

    detector.model.add_callback("on_predict_batch_end", count)
    capfd.readouterr()
    arrivals, shown = [], 0
    for prediction in detector.predict(paths):
        shown = _shown(capfd.readouterr().err, shown)
        arrivals.append((prediction.filepath, sum(inferred), shown))
    shown = _shown(capfd.readouterr().err, shown)

    batch_of = [i // BATCH for i in range(IMAGES)]
    assert [a[0] for a in arrivals] == paths
    assert inferred == [4, 4, 2]
    assert [a[1] for a in arrivals] == [min(IMAGES, (b + 1) * BATCH) for b in batch_of]
    assert [a[2] for a in arrivals] == [b * BATCH for b in batch_of]
    assert shown == IMAGES
