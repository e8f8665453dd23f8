from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from PIL import Image

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.adapters.zero_shot.config import Owl2Config
from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
from al_object_detection.adapters.zero_shot.weights import ZeroShotError
from al_object_detection.offline import activate
from al_object_detection.strategies import Pool, available, build_sampler

from .helpers import tiny_config, write_images

SIZES = [(80, 50), (64, 64), (30, 90), (100, 100), (45, 40)]
EVERY_BOX = {"threshold": 0.0, "nms_iou": 1.0, "max_det": 1000}  # keep every visible patch box


def predictions(config: Owl2Config, paths: list[str], classes: list[str]) -> list[ImagePrediction]:
    return list(ZeroShot_ALObjectDetector(config, classes=classes).predict(paths, progress=False))


def test_predictions_have_the_detector_shape_in_order(tiny_owlv2: Path, tmp_path: Path) -> None:
    paths = write_images(tmp_path, SIZES)
    config = tiny_config(tiny_owlv2, predict={"threshold": 0.3, "max_det": 5})
    results = predictions(config, paths, ["cat", "dog", "bird"])
    assert [r.filepath for r in results] == paths
    assert [(r.width, r.height) for r in results] == SIZES
    for r in results:
        n = len(r.boxes_xyxy)
        assert n <= 5
        assert r.boxes_xyxy.shape == (n, 4)
        assert r.boxes_xyxy.dtype == r.confidences.dtype == r.class_scores.dtype == np.float32
        assert r.label_ids.dtype == np.int64
        assert r.class_scores.shape == (n, 3)
        assert r.embedding is not None
        assert r.embedding.shape == (32,)
        assert np.all(r.boxes_xyxy[:, 2:] <= [r.width, r.height])
        assert np.all(r.boxes_xyxy[:, 2:] - r.boxes_xyxy[:, :2] >= 1.0)
        np.testing.assert_array_equal(r.confidences, r.class_scores.max(axis=1))
        np.testing.assert_array_equal(r.label_ids, r.class_scores.argmax(axis=1))
        assert np.all(r.confidences >= 0.3)
        assert np.all(np.diff(r.confidences) <= 0)
    assert sum(len(r.boxes_xyxy) for r in results) > 0


def test_scores_and_boxes_match_transformers_own_forward(tiny_owlv2: Path, tmp_path: Path) -> None:
    """A box's class scores: sigmoid of its best logit over the class's prompts."""
    paths = write_images(tmp_path, [(64, 64), (48, 48)])  # square: nothing is padded
    classes = {"templates": ["a photo of a {}", "a {}"], "synonyms": {"cat": ["kitten"]}}
    config = tiny_config(tiny_owlv2, predict=EVERY_BOX, classes=classes)
    detector = ZeroShot_ALObjectDetector(config, classes=["cat", "dog"])
    results = list(detector.predict(paths, progress=False))
    prompts = [p for group in detector.prompts for p in group]
    owners = np.array([c for c, group in enumerate(detector.prompts) for _ in group])
    assert owners.tolist() == [0, 0, 0, 0, 1, 1]

    activate()
    import torch
    from transformers import AutoTokenizer, Owlv2ForObjectDetection, Owlv2ImageProcessor

    model = Owlv2ForObjectDetection.from_pretrained(tiny_owlv2).eval()
    processor = Owlv2ImageProcessor.from_pretrained(tiny_owlv2)
    tokens = AutoTokenizer.from_pretrained(tiny_owlv2)(
        prompts, padding="max_length", max_length=16, return_tensors="pt"
    )
    for path, result in zip(paths, results, strict=True):
        image = Image.open(path).convert("RGB")
        pixels = processor(images=image, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            output = model(**tokens, pixel_values=pixels)
        logits = output.logits[0].numpy()
        per_class = np.stack([logits[:, owners == c].max(axis=1) for c in (0, 1)], axis=1)
        expected_scores = 1 / (1 + np.exp(-per_class))
        (boxes,) = processor.post_process_object_detection(
            output, threshold=0.0, target_sizes=[(image.height, image.width)]
        )
        expected_boxes = np.clip(boxes["boxes"].numpy(), 0, image.width)
        visible = np.all(expected_boxes[:, 2:] - expected_boxes[:, :2] >= 1.0, axis=1)
        assert len(result.boxes_xyxy) == visible.sum() > 0
        expected = np.concatenate([expected_boxes, expected_scores], axis=1)[visible]
        got = np.concatenate([result.boxes_xyxy, result.class_scores], axis=1)
        assert _unmatched_rows(got, expected, tolerance=1e-3) == []


def _unmatched_rows(rows: NDArray[Any], expected: NDArray[Any], tolerance: float) -> list[int]:
    """Rows without a distinct equal row (within ``tolerance``) in ``expected``."""
    left = list(range(len(expected)))
    unmatched = []
    for i, row in enumerate(rows):
        distance = [float(np.abs(expected[j] - row).max()) for j in left]
        best = int(np.argmin(distance)) if left else -1
        if best < 0 or distance[best] > tolerance:
            unmatched.append(i)
        else:
            left.pop(best)
    return unmatched


def test_a_bigger_input_size_gives_more_patch_boxes(tiny_owlv2: Path, tmp_path: Path) -> None:
    paths = write_images(tmp_path, [(70, 70)])
    native = predictions(tiny_config(tiny_owlv2, predict=EVERY_BOX), paths, ["cat"])
    bigger = tiny_config(tiny_owlv2, predict={**EVERY_BOX, "image_size": 96})
    (result,) = predictions(bigger, paths, ["cat"])
    assert len(native[0].boxes_xyxy) <= 16 < len(result.boxes_xyxy) <= 36
    assert np.all(result.boxes_xyxy <= 70)


def test_an_input_size_off_the_patch_grid_names_the_key(tiny_owlv2: Path, tmp_path: Path) -> None:
    config = tiny_config(tiny_owlv2, predict={"image_size": 72})
    with pytest.raises(ConfigError, match=r"image_size = 72 must be a multiple of .* size 16"):
        predictions(config, write_images(tmp_path, [(20, 20)]), ["cat"])


def test_an_unreadable_image_stops_after_every_earlier_one(
    tiny_owlv2: Path, tmp_path: Path
) -> None:
    paths = write_images(tmp_path, SIZES)
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    paths.insert(3, str(bad))  # batch 2: the second image of the second batch
    stream = ZeroShot_ALObjectDetector(tiny_config(tiny_owlv2), classes=["cat"]).predict(
        paths, progress=False
    )
    done: list[str] = []
    with pytest.raises(ZeroShotError, match=rf"{bad}: cannot read the image"):
        done.extend(result.filepath for result in stream)
    assert done == paths[:3]


def test_no_images_loads_nothing(tmp_path: Path) -> None:
    config = tiny_config(tmp_path / "no-weights-here")
    assert predictions(config, [], ["cat"]) == []


def test_config_file_with_relative_weights_and_progress_bar(
    tiny_owlv2: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "owl2_config.toml"
    path.write_text(
        f'[model]\nweights = "{tiny_owlv2.name}"\ndevice = "cpu"\n'
        '[classes]\nnames = ["cat", "dog"]\n'
    )
    (tmp_path / tiny_owlv2.name).symlink_to(tiny_owlv2)
    detector = ZeroShot_ALObjectDetector(path)
    assert detector.classes == ("cat", "dog")
    (result,) = detector.predict(write_images(tmp_path / "images", [(32, 32)]))
    assert result.class_scores.shape[1] == 2
    assert "zero-shot predict: 100%" in capsys.readouterr().err


def test_an_example_box_selects_the_matching_patch(tiny_owlv2: Path, tmp_path: Path) -> None:
    activate()
    import torch
    from torchvision.ops import box_convert, box_iou

    (path,) = write_images(tmp_path, [(64, 64)])
    engine = ZeroShot_ALObjectDetector(tiny_config(tiny_owlv2), classes=["cat"]).engine
    image = Image.open(path).convert("RGB")
    model = engine.model
    with torch.no_grad():
        feature_map, _ = model.image_embedder(pixel_values=engine.pixel_values([image]))
        features = feature_map.reshape(1, 16, 32)
        _, class_embeds = model.class_predictor(features)
        boxes = box_convert(model.box_predictor(features, feature_map)[0], "cxcywh", "xyxy")
    ious = box_iou(boxes, boxes)
    distinct = [k for k in range(16) if int((ious[k] >= 0.8).sum()) == 1]
    assert distinct
    for k in distinct[:3]:
        query = engine.example_query(image, (boxes[k] * 64).tolist())
        torch.testing.assert_close(query, class_embeds[0, k])


def test_example_boxes_become_queries_of_their_class(tiny_owlv2: Path, tmp_path: Path) -> None:
    paths = write_images(tmp_path, [(60, 40), (50, 50)])
    example = {"class": "dog", "image": paths[0], "box": [10, 5, 40, 35]}
    classes = {"templates": [], "prompts": {"cat": ["a cat"]}}
    config = tiny_config(tiny_owlv2, predict=EVERY_BOX, classes=classes, examples=[example])
    results = predictions(config, paths, ["cat", "dog"])
    assert [r.class_scores.shape[1] for r in results] == [2, 2]
    assert all(len(r.boxes_xyxy) > 0 for r in results)


@pytest.mark.parametrize(
    ("box", "error", "message"),
    [
        ([10, 5, 61, 35], ConfigError, r"#1: box \[10.0, 5.0, 61.0, 35.0\] lies outside the 60x40"),
        ([10, 5, 40, 35], ZeroShotError, r"#1: .*missing.png: cannot read the image"),
    ],
)
def test_bad_example_boxes_name_the_example(
    tiny_owlv2: Path, tmp_path: Path, box: list[int], error: type[Exception], message: str
) -> None:
    (path,) = write_images(tmp_path, [(60, 40)])
    image = path if error is ConfigError else str(tmp_path / "missing.png")
    example = {"class": "dog", "image": image, "box": box}
    config = tiny_config(tiny_owlv2, examples=[example])
    with pytest.raises(error, match=message):
        predictions(config, [path], ["cat", "dog"])


def test_every_strategy_selects_from_zero_shot_predictions(
    tiny_owlv2: Path, tmp_path: Path
) -> None:
    paths = write_images(tmp_path, SIZES * 2)
    config = tiny_config(tiny_owlv2, predict={"threshold": 0.4})
    results = predictions(config, paths, ["cat", "dog"])
    pool = Pool.from_lists(
        [f"s{i}" for i in range(len(results))],
        [r.class_scores for r in results],
        n_classes=2,
        embeddings=np.stack([r.embedding for r in results if r.embedding is not None]),
        labeled_class_counts=np.array([3, 1]),  # the labeled set's boxes per class
    )
    names = [name for name in available() if name != "hybrid"]
    specs: list[str | dict[str, Any]] = [
        *names,
        {"name": "hybrid", "parts": ["uncertainty", "diversity"]},
    ]
    for spec in specs:
        picks = build_sampler(spec).select(pool, 4, rng=np.random.default_rng(0))
        assert len(set(picks.tolist())) == 4, spec


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_gives_the_cpu_predictions(tiny_owlv2: Path, tmp_path: Path) -> None:
    paths = write_images(tmp_path, SIZES)
    cpu = predictions(tiny_config(tiny_owlv2, predict=EVERY_BOX), paths, ["cat", "dog"])
    config = tiny_config(tiny_owlv2, predict=EVERY_BOX, model={"device": "cuda"})
    gpu = predictions(config, paths, ["cat", "dog"])
    for on_cpu, on_gpu in zip(cpu, gpu, strict=True):
        rows = [np.concatenate([r.boxes_xyxy, r.class_scores], axis=1) for r in (on_cpu, on_gpu)]
        assert len(rows[0]) == len(rows[1]) > 0
        assert _unmatched_rows(rows[1], rows[0], tolerance=1e-2) == []
        assert on_cpu.embedding is not None
        assert on_gpu.embedding is not None
        np.testing.assert_allclose(on_gpu.embedding, on_cpu.embedding, atol=1e-3)
