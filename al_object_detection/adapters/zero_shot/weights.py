"""Find and load OWLv2 weights: a local folder, or a hub id from the local Hugging Face cache."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from al_object_detection.adapters.detection.yolo import DetectorError
from al_object_detection.offline import activate

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_HUB_FILES = ["*.json", "*.txt", "*.safetensors"]
#: What a weights folder must hold: each entry is satisfied by any one of its sets of files.
_REQUIRED = (
    (("config.json",),),
    (("model.safetensors",), ("model.safetensors.index.json",), ("pytorch_model.bin",)),
    (("preprocessor_config.json",),),
    (("tokenizer.json",), ("vocab.json", "merges.txt")),
)


class ZeroShotError(DetectorError):
    """Weights that cannot be found or loaded, or an image that cannot be read."""


@dataclass(frozen=True)
class Owlv2Parts:
    """A loaded OWLv2: the detection model, its image processor and its tokenizer."""

    model: Any
    image_processor: Any
    tokenizer: Any


def locate_weights(weights: str, base_dir: Path) -> Path:
    """The folder holding ``weights``: a local folder, or the cached snapshot of a hub id."""
    local = Path(weights).expanduser()
    local = local if local.is_absolute() else base_dir / local
    if local.is_dir():
        return _checked_folder(local)
    if not _HUB_ID.fullmatch(weights) or weights.startswith((".", "~")):
        raise ZeroShotError(f"weights folder not found: {local}")
    return _checked_folder(_hub_snapshot(weights, local))


def _checked_folder(folder: Path) -> Path:
    """``folder`` itself, once it holds every file an OWLv2 checkpoint needs."""
    missing = [
        " or ".join(" + ".join(files) for files in options)
        for options in _REQUIRED
        if not any(all((folder / name).is_file() for name in files) for files in options)
    ]
    if missing:
        tokenizer_hint = (
            "; owlv2_tokenizer.write_clip_tokenizer(folder) writes CLIP's tokenizer files"
            if any(name.startswith("tokenizer.json") for name in missing)
            else ""
        )
        raise ZeroShotError(
            f"{folder}: not a complete OWLv2 weights folder, missing {'; '.join(missing)} "
            "(save the model, its image processor and its CLIP tokenizer there with "
            f"save_pretrained, or download a whole hub snapshot{tokenizer_hint})"
        )
    model_type = _model_type(folder / "config.json")
    if model_type != "owlv2":
        raise ZeroShotError(
            f"{folder / 'config.json'}: model_type is {model_type!r}, not an OWLv2 checkpoint"
        )
    return folder


def load_owlv2(folder: Path) -> Owlv2Parts:
    """Load the model (in eval mode), image processor and tokenizer from a checked folder."""
    activate()
    from transformers import CLIPTokenizer, Owlv2ForObjectDetection, Owlv2ImageProcessor

    try:
        model = Owlv2ForObjectDetection.from_pretrained(folder, local_files_only=True)
        processor = Owlv2ImageProcessor.from_pretrained(folder, local_files_only=True)
        tokenizer = CLIPTokenizer.from_pretrained(folder, local_files_only=True)
    except Exception as error:  # transformers and safetensors raise many types for a bad file
        raise ZeroShotError(f"{folder}: cannot load the OWLv2 weights: {error}") from error
    return Owlv2Parts(model.eval(), processor, tokenizer)


def _hub_snapshot(repo_id: str, local: Path) -> Path:
    activate()
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}
    try:
        return Path(snapshot_download(repo_id, allow_patterns=_HUB_FILES, local_files_only=offline))
    except (OSError, ValueError) as error:
        how = "HF_HUB_OFFLINE is set, so nothing is downloaded" if offline else str(error)
        raise ZeroShotError(
            f"OWLv2 weights {repo_id!r} are not available: no folder {local}, and the hub id is "
            f"not in the local Hugging Face cache ({how}). Provide the weights: on a machine "
            f"with network access run `hf download {repo_id} --local-dir owlv2-weights`, copy "
            "that folder here and set [model] weights to its path"
        ) from error


def _model_type(config_file: Path) -> object:
    try:
        return json.loads(config_file.read_text()).get("model_type")
    except (OSError, ValueError, AttributeError) as error:
        raise ZeroShotError(f"{config_file}: unreadable model config ({error})") from error
