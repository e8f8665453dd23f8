"""The sampler's bulk read: any order, any chunk size, the same arrays as FiftyOne's values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from al_object_detection.adapters.dataset.pool_reader import (
    read_embeddings,
    read_prediction_arrays,
    read_values,
)
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.data.yolo import read_yolo

pytestmark = pytest.mark.integration
N_CLASSES = 3


@pytest.fixture
def store(dataset_name: str, shapes_dir: Path) -> FiftyOneStore:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    return store


def fake_prediction(path: str, n_boxes: int, n_classes: int, seed: int) -> ImagePrediction:
    rng = np.random.default_rng(seed)
    scores = rng.random((n_boxes, n_classes), dtype=np.float32)
    boxes = np.tile(np.array([[4, 4, 30, 30]], np.float32), (n_boxes, 1))
    return ImagePrediction(
        path, 64, 64, boxes, scores.argmax(1), scores.max(1), scores, rng.random(8, np.float32)
    )


def test_rows_follow_the_asked_order_across_chunks(store: FiftyOneStore) -> None:
    ids = store.ids("pool")
    paths = store.filepaths(ids)
    made = {
        i: fake_prediction(p, n % 4, N_CLASSES, n)
        for n, (i, p) in enumerate(zip(ids, paths, strict=True))
    }
    store.write_predictions(made.items(), ["a", "b", "c"])
    asked = list(np.random.default_rng(0).permutation(ids))
    collection = store.dataset._sample_collection
    fields = {"predictions": "predictions", "embedding": "embedding"}

    scores, offsets, embeddings = read_prediction_arrays(
        collection, asked, N_CLASSES, chunk=5, **fields
    )
    assert offsets[-1] == len(scores) == sum(len(made[i].class_scores) for i in asked)
    for k, sample_id in enumerate(asked):
        rows = scores[offsets[k] : offsets[k + 1]]
        np.testing.assert_allclose(rows, made[sample_id].class_scores, rtol=1e-6)
    assert embeddings is not None
    np.testing.assert_array_equal(embeddings, np.stack([made[i].embedding for i in asked]))
    again = read_embeddings(collection, asked, embedding="embedding", chunk=7)
    np.testing.assert_array_equal(again, embeddings)
    paths = read_values(collection, asked, "filepath", chunk=4)
    assert paths == [made[i].filepath for i in asked]
    assert store.stale_predictions(asked, "other") == asked
    assert store.stale_predictions(asked, "") == []


def test_a_missing_embedding_or_sample_is_never_papered_over(
    store: FiftyOneStore,
) -> None:
    ids = store.ids("pool")
    paths = store.filepaths(ids[:2])
    store.write_predictions(
        [(i, fake_prediction(p, 1, N_CLASSES, 0)) for i, p in zip(ids[:2], paths, strict=True)],
        ["a", "b", "c"],
    )
    collection = store.dataset._sample_collection
    assert read_embeddings(collection, ids[:3], embedding="embedding") is None
    _, offsets, embeddings = read_prediction_arrays(
        collection, ids[:3], N_CLASSES, predictions="predictions", embedding="embedding"
    )
    assert embeddings is None
    assert offsets.tolist() == [0, 1, 2, 2]
    gone = "0" * 24
    with pytest.raises(LookupError, match="1 of 2 samples are not in the dataset"):
        read_embeddings(collection, [ids[0], gone], embedding="embedding")
