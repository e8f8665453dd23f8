"""Fixtures of the annotation-server tests: stores with images, a virtual clock, a fake CVAT
and a real Label Studio (started once per test session)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.data.shapes import make_shapes
from al_object_detection.data.yolo import read_yolo

from .fake_cvat import FakeCvat
from .label_studio_server import LabelStudioServer, label_studio_venv, new_server

BOT, BOT_PASSWORD = "alod-bot", "bot-Pass-123"
HUMAN, HUMAN_PASSWORD = "annotator1", "human-Pass-123"


@dataclass
class VirtualTime:
    """An injectable clock and sleep: sleeping advances the clock at once."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def store(dataset_name: str, shapes_dir: Path) -> FiftyOneStore:
    """A dataset of 64x64 shape images, their boxes hidden (as in a pool)."""
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    return store


@pytest.fixture
def fake_cvat() -> Iterator[FakeCvat]:
    server = FakeCvat().start()
    server.add_user(BOT, BOT_PASSWORD)
    server.add_user(HUMAN, HUMAN_PASSWORD)
    yield server
    server.stop()
    assert server.response_errors == []  # the fake answered as the schema says


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """Label Studio from its own venv on 127.0.0.1, stopped at the end of the session."""
    server = new_server(label_studio_venv(), tmp_path_factory.mktemp("label-studio"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def ls_store(
    dataset_name: str, label_studio: LabelStudioServer, request: pytest.FixtureRequest
) -> FiftyOneStore:
    """A dataset of shape images that live below Label Studio's document root."""
    folder = label_studio.document_root / request.node.name
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(make_shapes(folder, n_images=8, image_size=64, seed=1))
    return store
