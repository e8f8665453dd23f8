"""``alod data``: datasets land on disk and in FiftyOne; bad input changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.cli import main

pytestmark = pytest.mark.integration


def test_shapes_lands_on_disk_and_in_fiftyone(
    fo: Any, dataset_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shapes"
    assert main(["data", "shapes", str(out), "--images", "12", "--dataset", dataset_name]) == 0
    assert (out / "data.yaml").is_file()
    dataset = fo.load_dataset(dataset_name)
    assert len(dataset) == 12
    assert f"dataset {dataset_name!r}: 12 images added" in capsys.readouterr().out


def test_import_labeled_yolo_folder(
    fo: Any, dataset_name: str, shapes_dir: Path, tmp_path: Path
) -> None:
    args = ["data", "import", str(shapes_dir), "--dataset", dataset_name, "--labels", "labeled"]
    assert main(args) == 0
    split = fo.load_dataset(dataset_name).count_values("al_split")
    assert split["labeled"] > 0
    assert split["val"] > 0
    assert "pool" not in split


def test_bad_folder_is_one_clear_error_and_the_dataset_is_untouched(
    fo: Any, dataset_name: str, shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good"
    shutil.copytree(shapes_dir, good)
    assert main(["data", "import", str(good), "--dataset", dataset_name]) == 0
    before = len(fo.load_dataset(dataset_name))

    bad = tmp_path / "bad"
    shutil.copytree(shapes_dir, bad)
    first_image = sorted((bad / "images").rglob("*.png"))[0]
    first_image.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    label = sorted((bad / "labels").rglob("*.txt"))[1]
    label.write_text("7 0.5 0.5 0.1 0.1\n")
    assert main(["data", "import", str(bad), "--dataset", dataset_name]) == 2
    error = capsys.readouterr().err
    assert str(first_image) in error
    assert f"{label}: line 1: class id 7" in error
    assert len(fo.load_dataset(dataset_name)) == before


def test_coco_import_needs_its_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "import", str(tmp_path / "missing.json"), "--format", "coco"]) == 2
    assert "missing.json" in capsys.readouterr().err
