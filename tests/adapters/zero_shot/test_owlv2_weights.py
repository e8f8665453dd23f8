from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from al_object_detection.adapters.detection.yolo import DetectorError
from al_object_detection.adapters.zero_shot.weights import ZeroShotError, load_owlv2, locate_weights

SUPPORT = Path(__file__).parents[2] / "support"
ABSENT_HUB_ID = "example-org/owlv2-never-cached"


@pytest.fixture
def weights_copy(tiny_owlv2: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_owlv2, tmp_path / "weights"))


def test_a_relative_folder_resolves_against_the_base_dir(weights_copy: Path) -> None:
    assert locate_weights("weights", weights_copy.parent) == weights_copy
    parts = load_owlv2(weights_copy)
    assert not parts.model.training
    assert parts.tokenizer("a cat")["input_ids"] == [49406, 320, 2368, 49407]


@pytest.mark.parametrize(
    ("remove", "missing"),
    [
        (["preprocessor_config.json"], "preprocessor_config.json"),
        (["model.safetensors"], "model.safetensors or model.safetensors.index.json or pytorch"),
        (["merges.txt"], "tokenizer.json or vocab.json \\+ merges.txt"),
        (["config.json"], "config.json"),
    ],
)
def test_a_folder_missing_files_names_them(
    weights_copy: Path, remove: list[str], missing: str
) -> None:
    for name in remove:
        (weights_copy / name).unlink()
    with pytest.raises(
        ZeroShotError, match=rf"{weights_copy}: not a complete .* missing {missing}"
    ):
        locate_weights(str(weights_copy), Path())


def test_a_folder_without_tokenizer_points_to_the_clip_files(weights_copy: Path) -> None:
    (weights_copy / "vocab.json").unlink()
    with pytest.raises(ZeroShotError, match=r"write_clip_tokenizer\(folder\) writes CLIP's"):
        locate_weights(str(weights_copy), Path())


def test_another_model_type_is_refused(weights_copy: Path) -> None:
    config = weights_copy / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_type": "clip"}))
    with pytest.raises(ZeroShotError, match=r"model_type is 'clip', not an OWLv2 checkpoint"):
        locate_weights(str(weights_copy), Path())


def test_corrupt_weights_name_the_folder(weights_copy: Path) -> None:
    (weights_copy / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(DetectorError, match=rf"{weights_copy}: cannot load the OWLv2 weights"):
        load_owlv2(weights_copy)


def test_a_missing_local_path_is_not_taken_for_a_hub_id(tmp_path: Path) -> None:
    with pytest.raises(ZeroShotError, match=r"weights folder not found: .*nowhere"):
        locate_weights("./nowhere", tmp_path)


def test_an_uncached_hub_id_offline_says_how_to_provide_the_weights(tmp_path: Path) -> None:
    with pytest.raises(ZeroShotError) as caught:
        locate_weights(ABSENT_HUB_ID, tmp_path)
    message = str(caught.value)
    assert "not in the local Hugging Face cache (HF_HUB_OFFLINE is set" in message
    assert f"hf download {ABSENT_HUB_ID} --local-dir owlv2-weights" in message
    assert "set [model] weights to its path" in message


@pytest.mark.slow
def test_the_hub_id_error_comes_without_any_network_attempt(tmp_path: Path) -> None:
    report = tmp_path / "attempts.json"
    env = {
        **os.environ,
        "NETWORK_GUARD_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path]),
        "ALOD_STATE_DIR": str(tmp_path / "state"),
        "HF_HOME": str(tmp_path / "hf"),
    }
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE"):
        env.pop(name, None)  # the package itself must switch the hub off
    script = f"""
        import network_guard
        from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
        from al_object_detection.adapters.zero_shot.config import parse_owl2_config
        config = parse_owl2_config({{"model": {{"weights": "{ABSENT_HUB_ID}"}}}})
        detector = ZeroShot_ALObjectDetector(config, classes=["cat"])
        try:
            list(detector.predict(["{tmp_path / "image.png"}"], progress=False))
        except Exception as error:
            print(type(error).__name__, error)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ZeroShotError OWLv2 weights"), done.stdout
    assert "Provide the weights" in done.stdout
    assert json.loads(report.read_text()) == []
