"""read_yolo rejects bad folders with one DataError naming each file and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from al_object_detection.data import DataError, read_yolo


def _problems(root: Path) -> dict[str, str]:
    with pytest.raises(DataError) as caught:
        read_yolo(root)
    return dict(caught.value.problems)


def _message(root: Path) -> str:
    with pytest.raises(DataError) as caught:
        read_yolo(root)
    return str(caught.value)


def test_zero_byte_image(yolo_root: Path) -> None:
    path = yolo_root / "images" / "pool" / "a.png"
    path.write_bytes(b"")
    message = _message(yolo_root)
    assert str(path) in message
    assert "empty (0 bytes)" in message


def test_non_image_with_jpg_extension(yolo_root: Path) -> None:
    path = yolo_root / "images" / "pool" / "notes.jpg"
    path.write_text("this is not a picture")
    assert "cannot decode image" in _problems(yolo_root)[str(path)]


def test_truncated_image(yolo_root: Path) -> None:
    path = yolo_root / "images" / "pool" / "big.jpg"
    Image.effect_noise((200, 200), 60).convert("RGB").save(path, quality=95)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "cannot decode image" in _problems(yolo_root)[str(path)]


def test_decompression_bomb(yolo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    problem = _problems(yolo_root)[str(yolo_root / "images" / "pool" / "a.png")]
    assert "DecompressionBomb" in problem


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("7 0.5 0.5 0.2 0.2", "line 1: class id 7 not in classes (0..1)"),
        ("0 0.5 0.5 0.2", "line 1: expected 5 fields 'class cx cy w h', got 4"),
        ("cat 0.5 0.5 0.2 0.2", "line 1: class id 'cat' is not a non-negative integer"),
        ("0 0.5 0.5 abc 0.2", "line 1: box values ['0.5', '0.5', 'abc', '0.2'] are not numbers"),
        ("0 0.5 0.5 0 0.2", "line 1: box has non-positive size (w=0, h=0.2)"),
        ("0 1.5 0.5 0.2 0.2", "line 1: box (1.4, 0.4, 0.2, 0.2) lies entirely outside the image"),
        ("0 nan 0.5 0.2 0.2", "line 1: box has non-finite values"),
    ],
)
def test_bad_label_line(yolo_root: Path, line: str, problem: str) -> None:
    path = yolo_root / "labels" / "pool" / "a.txt"
    path.write_text(line + "\n")
    assert _problems(yolo_root)[str(path)].startswith(problem)


def test_malformed_data_yaml(yolo_root: Path) -> None:
    path = yolo_root / "data.yaml"
    path.write_text("names:\n  0: cat\n  2: dog\n")
    assert "ids [0, 2] are not 0..1" in _problems(yolo_root)[str(path)]


@pytest.mark.parametrize("text", ["train: images\n", "names: cat dog\n", "names: [cat, 'dog]\n"])
def test_data_yaml_without_usable_names(yolo_root: Path, text: str) -> None:
    path = yolo_root / "data.yaml"
    path.write_text(text)
    assert _problems(yolo_root)[str(path)].startswith("bad class list")


def test_missing_class_list(yolo_root: Path) -> None:
    (yolo_root / "data.yaml").unlink()
    assert "no class list" in _problems(yolo_root)[str(yolo_root)]


def test_missing_images_folder(tmp_path: Path) -> None:
    assert "no 'images' folder" in _message(tmp_path)


def test_orphan_label_and_bad_groups(yolo_root: Path) -> None:
    orphan = yolo_root / "labels" / "pool" / "gone.txt"
    orphan.write_text("0 0.5 0.5 0.1 0.1\n")
    (yolo_root / "groups.json").write_text("[1, 2]")
    problems = _problems(yolo_root)
    assert "no matching image" in problems[str(orphan)]
    assert "groups must be a JSON object" in problems[str(yolo_root / "groups.json")]


def test_all_problems_in_one_error(yolo_root: Path) -> None:
    label = yolo_root / "labels" / "pool" / "a.txt"
    label.write_text("9 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n")
    (yolo_root / "images" / "val" / "c.png").write_bytes(b"")
    for index in range(25):
        (yolo_root / "images" / "pool" / f"bad{index:02d}.png").write_bytes(b"\x89PNG")
    message = _message(yolo_root)
    assert message.startswith("28 problems in the input data:")
    assert f"{label}: line 1: class id 9" in message
    assert f"{label}: line 2: expected 5 fields" in message
    assert message.endswith("and 8 more")
