"""Shared fixtures: an offline runtime and a private FiftyOne database for the whole run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.dataset.mongod import MongoServer

_RUN_DIR = Path(tempfile.mkdtemp(prefix="alod-tests-"))
os.environ["ALOD_STATE_DIR"] = str(_RUN_DIR / "state")
# this run's own MongoDB server: FiftyOne's per-user mongod would be shared with other runs
_MONGOD = MongoServer(_RUN_DIR / "fiftyone-db")
os.environ["FIFTYONE_DATABASE_URI"] = _MONGOD.uri
os.environ.pop("FIFTYONE_PRIVATE_DATABASE_PORT", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop this run's MongoDB server and delete its folder (~300 MB of database files)."""
    _MONGOD.stop()
    shutil.rmtree(_RUN_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def fo() -> Any:
    """FiftyOne, imported offline against this test run's own database."""
    from al_object_detection.adapters.dataset.store import import_fiftyone

    return import_fiftyone()


@pytest.fixture
def dataset_name(request: pytest.FixtureRequest, fo: Any) -> Iterator[str]:
    """A dataset name unique to the test, deleted afterwards."""
    name = f"test-{request.node.name}"[:100]
    if fo.dataset_exists(name):
        fo.delete_dataset(name)
    yield name
    if fo.dataset_exists(name):
        fo.delete_dataset(name)


@pytest.fixture(scope="session")
def shapes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small YOLO-layout dataset of coloured shapes (pool and val), made once."""
    from al_object_detection.data.shapes import make_shapes

    root = tmp_path_factory.mktemp("shapes")
    make_shapes(root, n_images=32, image_size=64, seed=0)
    return root


@pytest.fixture(scope="session")
def tiny_weights(shapes_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (barely trained) YOLOv8n checkpoint for the shapes classes, made once."""
    from al_object_detection.adapters.detection.config import parse_yolo_config
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

    config = parse_yolo_config(
        {"train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False}}
    )
    work = tmp_path_factory.mktemp("tiny-weights")
    detector = YOLOv8_ALObjectDetector("yolov8n.yaml", config, work_dir=work)
    return detector.train(shapes_dir / "data.yaml", round_index=0).weights
