from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from al_object_detection.adapters.annotation.oracle import LabelNoise, OracleAnnotator
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.data.yolo import read_yolo
from al_object_detection.ingest.pool import PoolWriter
from al_object_detection.states.steps import unlabeled_picks

pytestmark = pytest.mark.integration


@pytest.fixture
def store(dataset_name: str, shapes_dir: Path) -> FiftyOneStore:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    return store


def test_reveals_the_hidden_ground_truth(store: FiftyOneStore) -> None:
    ids = store.ids("pool")[:4]
    oracle = OracleAnnotator(store)
    handle = oracle.submit("r0", ids, {})
    assert oracle.poll(handle).done
    assert oracle.fetch(handle) == store.hidden_labels(ids)


def test_a_new_oracle_resumes_from_the_handle_alone(store: FiftyOneStore) -> None:
    ids = store.ids("pool")[:3]
    handle = OracleAnnotator(store).submit("r0", ids, {})
    assert set(OracleAnnotator(store).fetch(handle)) == set(ids)


def test_delay_makes_progress_grow_until_done(store: FiftyOneStore) -> None:
    now = [100.0]
    oracle = OracleAnnotator(store, delay_s=10.0, clock=lambda: now[0])
    handle = oracle.submit("r0", store.ids("pool")[:4], {})
    assert oracle.poll(handle).completed == 0
    now[0] = 105.0
    assert (oracle.poll(handle).completed, oracle.poll(handle).done) == (2, False)
    with pytest.raises(RuntimeError, match="not finished"):
        oracle.fetch(handle)
    now[0] = 110.0
    assert oracle.poll(handle).done


def test_noise_is_deterministic_and_does_what_it_says(store: FiftyOneStore) -> None:
    ids = store.ids("pool")
    truth = store.hidden_labels(ids)
    oracle = OracleAnnotator(store, noise=LabelNoise(miss_rate=0.5, wrong_class_rate=1.0), seed=3)
    handle = oracle.submit("r0", ids, {})
    first, again = oracle.fetch(handle), oracle.fetch(handle)

    def content(labels: dict[str, Any]) -> dict[str, list[tuple[str, tuple[float, ...]]]]:
        return {
            i: [(d.label, tuple(d.bounding_box)) for d in v.detections] for i, v in labels.items()
        }

    assert content(first) == content(again)
    n_true = sum(len(d.detections) for d in truth.values())
    n_kept = sum(len(d.detections) for d in first.values())
    assert 0 < n_kept < n_true
    for sample_id, labels in first.items():
        true_labels = {tuple(d.bounding_box): d.label for d in truth[sample_id].detections}
        for detection in labels.detections:
            assert detection.label != true_labels[tuple(detection.bounding_box)]


def test_bad_noise_is_refused() -> None:
    with pytest.raises(ValueError, match=r"miss_rate must lie in \[0, 1\]"):
        LabelNoise(miss_rate=1.5)


def test_unknown_handle_is_a_clear_error(store: FiftyOneStore) -> None:
    with pytest.raises(ValueError, match="not an oracle handle"):
        OracleAnnotator(store).poll("task-17")


def drop_images(store: FiftyOneStore, shapes_dir: Path, folder: Path, n: int) -> list[str]:
    """Add ``n`` pool images the way the drop folder does (no hidden ground truth); their ids."""
    source = sorted((shapes_dir / "images").rglob("*.png"))[0]
    paths = [folder / f"dropped{i}.png" for i in range(n)]
    for path in paths:
        shutil.copyfile(source, path)
    before = set(store.ids("pool"))
    PoolWriter(store).add([(f"sha-{path.name}", path) for path in paths])
    return sorted(set(store.ids("pool")) - before)


def test_images_without_hidden_truth_are_skipped_and_stay_in_the_pool(
    store: FiftyOneStore, shapes_dir: Path, tmp_path: Path
) -> None:
    known = store.ids("pool")[:3]
    dropped = drop_images(store, shapes_dir, tmp_path, 2)
    oracle = OracleAnnotator(store)
    with capture_logs() as logs:
        labels = oracle.fetch(oracle.submit("r1", [*known, *dropped], {}))
    assert set(labels) == set(known)
    (skipped,) = [event for event in logs if event["event"] == "oracle_skipped"]
    assert (skipped["images"], skipped["labeled"]) == (2, 3)
    assert unlabeled_picks([*known, *dropped], labels) == dropped  # the import step goes on
    store.set_labels(labels, round_index=1)
    assert set(dropped) <= set(store.ids("pool"))
    assert not set(known) & set(store.ids("pool"))


def test_a_batch_it_can_label_none_of_is_a_clear_error(
    store: FiftyOneStore, shapes_dir: Path, tmp_path: Path
) -> None:
    dropped = drop_images(store, shapes_dir, tmp_path, 1)
    oracle = OracleAnnotator(store)
    with pytest.raises(LookupError, match="can label none of the 1 picked images"):
        oracle.fetch(oracle.submit("r1", dropped, {}))
