from __future__ import annotations

import json
from pathlib import Path

import pytest

from al_object_detection.offline import activate

# CLIP's own ids (from its reference tokenizer) for these texts.
KNOWN_IDS = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
    "A  Photo of a CAT": [49406, 320, 1125, 539, 320, 2368, 49407],
}


@pytest.mark.parametrize(("text", "ids"), KNOWN_IDS.items())
def test_built_tokenizer_gives_clips_ids(
    clip_tokenizer_dir: Path, text: str, ids: list[int]
) -> None:
    activate()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(clip_tokenizer_dir, local_files_only=True)
    assert tokenizer(text)["input_ids"] == ids


def test_tokenizer_pads_like_owlv2(clip_tokenizer_dir: Path) -> None:
    activate()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(clip_tokenizer_dir, local_files_only=True)
    ids = tokenizer("a cat", padding="max_length", max_length=16)["input_ids"]
    assert ids == [49406, 320, 2368, 49407] + [0] * 12
    assert len(json.loads((clip_tokenizer_dir / "vocab.json").read_text())) == 49408
