from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from al_object_detection.adapters.detection.config import YoloConfig, parse_yolo_config
from al_object_detection.adapters.detection.yolo import DetectorError, YOLOv8_ALObjectDetector

TINY = {
    "train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "device": "cpu"},
    "predict": {"imgsz": 64, "conf": 0.0001, "max_det": 20, "batch": 4, "device": "cpu"},
}


def tiny_config() -> YoloConfig:
    return parse_yolo_config(TINY)


def image_paths(root: Path) -> list[str]:
    return sorted(str(p) for p in (root / "images").rglob("*.png"))


@pytest.fixture(scope="module")
def trained(shapes_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> YOLOv8_ALObjectDetector:
    detector = YOLOv8_ALObjectDetector(
        "yolov8n.yaml", tiny_config(), work_dir=tmp_path_factory.mktemp("detector")
    )
    detector.train(shapes_dir / "data.yaml", round_index=0)
    return detector


@pytest.mark.slow
def test_training_keeps_best_weights_and_takes_the_data_classes(
    trained: YOLOv8_ALObjectDetector,
) -> None:
    assert trained.model_path.name == "round_000.pt"
    assert trained.model_path.is_file()
    assert trained.classes == ("square", "disc", "triangle")


@pytest.mark.slow
def test_next_round_warm_starts_from_the_kept_weights(
    trained: YOLOv8_ALObjectDetector, shapes_dir: Path
) -> None:
    detector = YOLOv8_ALObjectDetector(trained.model_path, tiny_config(), work_dir=trained.work_dir)
    result = detector.train(shapes_dir / "data.yaml", round_index=1)
    assert result.weights.name == "round_001.pt"
    assert detector.model_path == result.weights
    assert set(result.metrics) >= {"metrics/mAP50(B)", "metrics/mAP50-95(B)"}


@pytest.mark.slow
def test_predict_returns_scores_embeddings_in_order(
    trained: YOLOv8_ALObjectDetector, shapes_dir: Path
) -> None:
    paths = image_paths(shapes_dir)[:6]
    predictions = list(trained.predict(paths, progress=False))
    assert [p.filepath for p in predictions] == paths
    n_boxes = 0
    for p in predictions:
        assert (p.width, p.height) == (64, 64)
        assert p.class_scores.shape == (len(p.label_ids), 3)
        assert p.embedding is not None
        assert p.embedding.shape == predictions[0].embedding.shape  # type: ignore[union-attr]
        assert np.all(p.boxes_xyxy >= -1e-3)
        assert np.all(p.boxes_xyxy <= 64 + 1e-3)
        if len(p.label_ids):
            # the kept box's class-score vector agrees with NMS's label and confidence
            np.testing.assert_allclose(p.class_scores.max(axis=1), p.confidences, rtol=1e-5)
            np.testing.assert_array_equal(p.class_scores.argmax(axis=1), p.label_ids)
            rel = p.relative_boxes
            assert np.all((rel >= 0) & (rel <= 1))
        n_boxes += len(p.label_ids)
    assert n_boxes > 0, "a near-zero confidence threshold must keep some boxes"


@pytest.mark.slow
def test_predict_batches_agree_with_single_images(
    trained: YOLOv8_ALObjectDetector, shapes_dir: Path
) -> None:
    paths = image_paths(shapes_dir)[:4]
    batched = list(trained.predict(paths, progress=False))
    single = [next(trained.predict([path], progress=False)) for path in paths]
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose(a.embedding, b.embedding, rtol=1e-3, atol=1e-4)  # type: ignore[arg-type]


@pytest.mark.slow
def test_foreground_embedding_is_the_whole_image_one_where_no_box_is_predicted(
    trained: YOLOv8_ALObjectDetector, shapes_dir: Path
) -> None:
    paths = image_paths(shapes_dir)[:4]
    config = tiny_config()
    nothing = replace(config.predict, conf=1.0)  # no box reaches it
    boxed = YOLOv8_ALObjectDetector(
        trained.model_path,
        replace(config, predict=replace(nothing, embedding_boxes=3)),
        work_dir=trained.work_dir,
    )
    whole = YOLOv8_ALObjectDetector(
        trained.model_path, replace(config, predict=nothing), work_dir=trained.work_dir
    )
    for a, b in zip(whole.predict(paths), boxed.predict(paths), strict=True):
        assert len(b.label_ids) == 0
        np.testing.assert_allclose(a.embedding, b.embedding, rtol=1e-5)  # type: ignore[arg-type]


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        DetectorError, match=r"checkpoint not found: .*absent.pt .*never downloaded"
    ):
        YOLOv8_ALObjectDetector(tmp_path / "absent.pt", tiny_config())


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    detector = YOLOv8_ALObjectDetector(broken, tiny_config())
    with pytest.raises(DetectorError, match=r"broken.pt: cannot load as a detector"):
        _ = detector.classes


def test_predict_on_nothing_yields_nothing() -> None:
    detector = YOLOv8_ALObjectDetector("yolov8n.yaml", tiny_config())
    assert list(detector.predict([], progress=False)) == []
