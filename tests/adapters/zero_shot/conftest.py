"""A tiny random OWLv2 with CLIP's real tokenizer, saved to a folder once per test run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from al_object_detection.adapters.zero_shot.tokenizer import TOKENIZER_FILES, write_clip_tokenizer
from al_object_detection.data.wheels import CACHE_ENV
from al_object_detection.offline import activate

TINY_IMAGE = 64
TINY_PATCH = 16


@pytest.fixture(scope="session")
def clip_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CLIP's tokenizer files, built from the clip-anytorch wheel (a pre-filled wheel cache
    named by the usual variable is used as it is)."""
    cache = os.environ.get(CACHE_ENV) or tmp_path_factory.mktemp("wheels")
    return write_clip_tokenizer(tmp_path_factory.mktemp("clip-tokenizer"), cache)


@pytest.fixture(scope="session")
def tiny_owlv2(tmp_path_factory: pytest.TempPathFactory, clip_tokenizer_dir: Path) -> Path:
    """A randomly initialised 2-layer, 32-d OWLv2 (64 px input, 16 px patches) in a folder."""
    activate()
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor

    layers = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
    }
    config = Owlv2Config(
        text_config={**layers, "max_position_embeddings": 16},
        vision_config={**layers, "image_size": TINY_IMAGE, "patch_size": TINY_PATCH},
        projection_dim=32,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-owlv2")
    Owlv2ForObjectDetection(config).save_pretrained(folder)
    size = {"height": TINY_IMAGE, "width": TINY_IMAGE}
    Owlv2ImageProcessor(size=size).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(clip_tokenizer_dir / name, folder / name)
    return folder
