"""The Ray path predicts what the local path predicts, on a real local Ray of 2 CPUs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray

from al_object_detection.adapters.detection.compute import ComputeSettings, on_backend
from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.ray_predict import RayDetector, actor_resources
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

PREDICT = {"imgsz": 64, "conf": 0.001, "max_det": 20, "batch": 4, "device": "cpu"}
RAY = ComputeSettings(backend="ray", batch_size=5)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A real Ray on 2 CPUs in this process, in its own temp folder."""
    folder = tempfile.mkdtemp(prefix="alod-ray-")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=folder)
    yield
    ray.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def detector(weights: Path | str) -> YOLOv8_ALObjectDetector:
    return YOLOv8_ALObjectDetector(weights, parse_yolo_config({"predict": PREDICT}))


@pytest.mark.slow
def test_ray_predicts_what_the_local_path_predicts(
    local_ray: None, tiny_weights: Path, shapes_dir: Path
) -> None:
    paths = sorted(str(p) for p in (shapes_dir / "images").rglob("*.png"))[:12]
    local = detector(tiny_weights)
    on_ray = on_backend(detector(tiny_weights), RAY)
    assert isinstance(on_ray, RayDetector)
    assert (on_ray.classes, on_ray.model_id) == (local.classes, local.model_id)

    expected = list(local.predict(paths, progress=False))
    got = list(on_ray.predict(paths, progress=False))

    assert [p.filepath for p in got] == paths
    assert sum(len(p.label_ids) for p in got) > 0
    for mine, theirs in zip(got, expected, strict=True):
        assert (mine.width, mine.height) == (theirs.width, theirs.height)
        np.testing.assert_array_equal(mine.label_ids, theirs.label_ids)
        np.testing.assert_allclose(mine.boxes_xyxy, theirs.boxes_xyxy, atol=1e-3)
        np.testing.assert_allclose(mine.confidences, theirs.confidences, atol=1e-5)
        np.testing.assert_allclose(mine.class_scores, theirs.class_scores, atol=1e-5)
        assert mine.embedding is not None
        assert theirs.embedding is not None
        np.testing.assert_allclose(mine.embedding, theirs.embedding, rtol=1e-4, atol=1e-5)


def test_the_local_backend_keeps_the_detector_as_it_is() -> None:
    local = detector("yolov8n.yaml")
    assert on_backend(local, ComputeSettings()) is local


def test_actors_take_a_gpu_each_where_the_cluster_has_gpus() -> None:
    chosen = actor_resources({"CPU": 16.0, "GPU": 4.0}, ComputeSettings(num_gpus=1.0))
    assert (chosen["num_gpus"], chosen["compute"].max_size) == (1.0, 4)
    half = actor_resources({"CPU": 16.0, "GPU": 2.0}, ComputeSettings(num_gpus=0.5))
    assert (half["num_gpus"], half["compute"].max_size) == (0.5, 4)


def test_actors_take_cpus_where_the_cluster_has_no_gpu() -> None:
    chosen = actor_resources({"CPU": 2.0}, ComputeSettings(num_cpus=1.0))
    assert (chosen["num_cpus"], chosen["num_gpus"], chosen["compute"].max_size) == (1.0, 0.0, 2)
    one = actor_resources({"CPU": 2.0}, ComputeSettings(num_cpus=4.0))
    assert one["compute"].max_size == 1  # never none: one actor waits for room
