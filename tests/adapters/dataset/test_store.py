from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from al_object_detection.adapters.dataset.store import FiftyOneStore, StoreError
from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.data.records import DetectionData
from al_object_detection.data.yolo import read_yolo

pytestmark = pytest.mark.integration


@pytest.fixture
def shapes(shapes_dir: Path) -> DetectionData:
    return read_yolo(shapes_dir)


@pytest.fixture
def store(dataset_name: str, shapes: DetectionData) -> FiftyOneStore:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(shapes)
    return store


def fake_prediction(path: str, n_boxes: int, n_classes: int, seed: int) -> ImagePrediction:
    rng = np.random.default_rng(seed)
    scores = rng.random((n_boxes, n_classes), dtype=np.float32)
    xy = rng.random((n_boxes, 2), dtype=np.float32) * 30
    return ImagePrediction(
        filepath=path,
        width=64,
        height=64,
        boxes_xyxy=np.concatenate([xy, xy + 20], axis=1),
        label_ids=scores.argmax(axis=1),
        confidences=scores.max(axis=1),
        class_scores=scores,
        embedding=rng.random(8, dtype=np.float32),
    )


def test_add_splits_pool_and_val_and_hides_pool_labels(
    store: FiftyOneStore, shapes: DetectionData
) -> None:
    counts = store.counts()
    assert counts["pool"] == len(shapes.split("pool"))
    assert counts["val"] == len(shapes.split("val"))
    assert counts["labeled"] == 0
    assert store.classes == shapes.classes
    pool = store.ids("pool")
    assert all(v is not None for v in store.hidden_labels(pool).values())
    ground_truth = store.dataset.select(pool).values(store.fields.ground_truth)
    assert all(v is None for v in ground_truth)


def test_adding_the_same_images_twice_adds_nothing(
    store: FiftyOneStore, shapes: DetectionData
) -> None:
    before = len(store.dataset)
    assert store.add(shapes) == []
    assert len(store.dataset) == before


def test_labeled_mode_makes_a_labeled_start_set(dataset_name: str, shapes: DetectionData) -> None:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(shapes, labels="labeled")
    assert store.counts()["labeled"] == len(shapes.split("pool"))
    assert store.class_counts().sum() == sum(len(i.labels) for i in shapes.split("pool"))


def test_set_labels_moves_samples_to_labeled_with_their_round(store: FiftyOneStore) -> None:
    picked = store.ids("pool")[:5]
    store.set_labels(store.hidden_labels(picked), round_index=3)
    assert store.counts()["labeled"] == 5
    assert sorted(store.ids("labeled")) == sorted(picked)
    assert set(store.dataset.select(picked).values(store.fields.round)) == {3}
    assert store.class_counts().sum() > 0


def test_predictions_round_trip_as_csr_arrays(store: FiftyOneStore) -> None:
    ids = store.ids("pool")[:4]
    paths = store.filepaths(ids)
    predictions = [
        fake_prediction(p, n, 3, seed)
        for seed, (p, n) in enumerate(zip(paths, [2, 0, 3, 1], strict=True))
    ]
    written = store.write_predictions(
        zip(ids, predictions, strict=True), ["square", "disc", "triangle"], chunk=3
    )
    assert written == 4
    scores, offsets, embeddings = store.prediction_arrays(ids, 3)
    np.testing.assert_array_equal(offsets, [0, 2, 2, 5, 6])
    np.testing.assert_allclose(
        scores, np.concatenate([p.class_scores for p in predictions]), rtol=1e-6
    )
    assert embeddings is not None
    np.testing.assert_allclose(embeddings, np.stack([p.embedding for p in predictions]), rtol=1e-6)
    stored = store.predictions(ids)[0].detections[0]
    np.testing.assert_allclose(stored.bounding_box, predictions[0].relative_boxes[0], rtol=1e-6)
    assert stored.label == ["square", "disc", "triangle"][int(predictions[0].label_ids[0])]


def test_export_needs_labeled_samples(store: FiftyOneStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="the 'labeled' split is empty"):
        store.export_yolo(tmp_path / "export")


def test_export_writes_an_ultralytics_dataset(store: FiftyOneStore, tmp_path: Path) -> None:
    picked = store.ids("pool")[:6]
    store.set_labels(store.hidden_labels(picked), round_index=1)
    data_yaml = store.export_yolo(tmp_path / "export")
    exported = read_yolo(data_yaml.parent)
    assert exported.classes == store.classes
    assert len(exported.split("pool")) == 6
    assert len(exported.split("val")) == store.counts()["val"]


def test_open_unknown_dataset_is_a_clear_error(fo: Any) -> None:
    with pytest.raises(StoreError, match="no FiftyOne dataset named 'does-not-exist'"):
        FiftyOneStore.open("does-not-exist")
