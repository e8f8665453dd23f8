"""One dropped file, judged; the settle tracker; quarantine and image store (no FiftyOne)."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from al_object_detection.ingest import checks
from al_object_detection.ingest.candidates import Candidates
from al_object_detection.ingest.checks import Accepted, Deferred, Rejected, inspect_file
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.ingest.rules import IngestRules
from al_object_detection.ingest.watcher import ignored

from .images import bomb_png, jpeg, png

RULES = IngestRules(grace_s=0.0)


def put(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_good_image_is_accepted_with_its_hash_and_size(tmp_path: Path) -> None:
    verdict = inspect_file(put(tmp_path, "a.png", png()), tmp_path, RULES)
    assert isinstance(verdict, Accepted)
    assert (verdict.width, verdict.height, verdict.suffix) == (16, 12, ".png")
    assert len(verdict.sha256) == 64
    as_jpeg = inspect_file(put(tmp_path, "b.JPEG", jpeg()), tmp_path, RULES)
    assert isinstance(as_jpeg, Accepted)
    assert as_jpeg.suffix == ".jpg"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("zero.png", b"", checks.EMPTY),
        ("truncated.jpg", jpeg((64, 64))[:300], checks.CORRUPT),
        ("truncated.png", png((64, 64))[:-40], checks.CORRUPT),
        ("text.jpg", b"this is not an image at all\n" * 10, checks.NOT_AN_IMAGE),
        ("notes.txt", b"hello", checks.SUFFIX),
        ("small.gif", b"GIF89a" + b"\0" * 20, checks.SUFFIX),
        ("huge.png", bomb_png(20000, 20000), checks.PIXELS),
        pytest.param(
            "bomb.png",
            bomb_png(12000, 9000),
            checks.PIXELS,
            marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
        ),
    ],
)
def test_bad_input_is_rejected_with_a_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    verdict = inspect_file(put(tmp_path, name, data), tmp_path, RULES)
    assert isinstance(verdict, Rejected), verdict
    assert verdict.reason == reason
    assert verdict.detail


def test_a_format_not_allowed_even_under_an_allowed_suffix(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "BMP")
    verdict = inspect_file(put(tmp_path, "fake.png", buffer.getvalue()), tmp_path, RULES)
    assert isinstance(verdict, Rejected)
    assert verdict.reason == checks.FORMAT


def test_unfinished_looking_content_waits_for_the_grace_period(tmp_path: Path) -> None:
    path = put(tmp_path, "slow.jpg", jpeg((64, 64))[:300])
    rules = IngestRules(grace_s=30.0)
    assert isinstance(inspect_file(path, tmp_path, rules), Deferred)
    later = time.time() + 31
    rejected = inspect_file(path, tmp_path, rules, now=later)
    assert isinstance(rejected, Rejected)
    assert rejected.reason == checks.CORRUPT


def test_symlinks_inside_are_followed_outside_refused(tmp_path: Path) -> None:
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    target = put(drop, "real.png", png())
    (drop / "inside.png").symlink_to(target)
    (drop / "escape.png").symlink_to(put(outside, "secret.png", png(colour=7)))
    (drop / "dangling.png").symlink_to(drop / "nothing.png")
    assert isinstance(inspect_file(drop / "inside.png", drop, RULES), Accepted)
    escape = inspect_file(drop / "escape.png", drop, RULES)
    assert isinstance(escape, Rejected)
    assert escape.reason == checks.SYMLINK_OUTSIDE
    dangling = inspect_file(drop / "dangling.png", drop, RULES)
    assert isinstance(dangling, Rejected)
    assert dangling.reason == checks.BROKEN_SYMLINK


def test_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    verdict = inspect_file(tmp_path / "pipe.png", tmp_path, RULES)
    assert isinstance(verdict, Rejected)
    assert verdict.reason == checks.NOT_A_FILE


def test_names_that_are_not_ours_yet() -> None:
    root = Path("/drop")
    assert ignored(Path("/drop/.hidden.png"), root)
    assert ignored(Path("/drop/photo.png.tmp"), root)
    assert ignored(Path("/drop/.git/x.png"), root)
    assert ignored(Path("/elsewhere/x.png"), root)
    assert not ignored(Path("/drop/sub/x.png"), root)


def test_candidates_wait_for_a_close_or_a_quiet_period(tmp_path: Path) -> None:
    clock = [100.0]
    candidates = Candidates(settle_s=1.0, clock=lambda: clock[0])
    closed, quiet = put(tmp_path, "closed.png", b"x"), put(tmp_path, "quiet.png", b"y")
    candidates.offer(closed, tmp_path, closed=True)
    candidates.offer(quiet, tmp_path)
    assert candidates.take_ready() == [(closed, tmp_path)]
    clock[0] += 0.5
    quiet.write_bytes(b"yy")  # still being written
    assert candidates.take_ready() == []
    clock[0] += 1.1
    assert candidates.take_ready() == [(quiet, tmp_path)]
    candidates.offer(put(tmp_path, "gone.png", b"z"), tmp_path, closed=True)
    (tmp_path / "gone.png").unlink()
    assert candidates.take_ready() == []
    assert len(candidates) == 0


def test_quarantine_moves_the_file_and_says_why(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "sub").mkdir(parents=True)
    quarantine = Quarantine(tmp_path / "q")
    name = "caf\u00e9 \u65e5\u672c.png"
    first = quarantine.put(put(drop / "sub", name, b"1"), drop, checks.EMPTY, "empty file")
    second = quarantine.put(put(drop / "sub", name, b"2"), drop, checks.CORRUPT, "truncated")
    assert not (drop / "sub" / name).exists()
    assert first != second
    assert first.name.endswith("sub__" + name)
    record = json.loads(first.with_name(first.name + ".reason.json").read_text())
    assert (record["reason"], record["detail"]) == (checks.EMPTY, "empty file")
    assert record["original"] == str(drop / "sub" / name)
    assert quarantine.reasons() == {checks.EMPTY: 1, checks.CORRUPT: 1}
    long_name = "x" * 240 + ".png"
    clipped = quarantine.put(put(drop, long_name, b"3"), drop, checks.EMPTY, "e")
    assert clipped.name.endswith(".png")
    assert len(os.fsencode(clipped.name + ".reason.json")) <= 255


def test_image_store_places_each_content_once_and_finishes_moves(tmp_path: Path) -> None:
    image_store = ImageStore(tmp_path / "lib")
    first = put(tmp_path, "a.png", b"same")
    assert image_store.place(first, "ab" * 32, ".png")
    assert not first.exists()
    target = image_store.path_for("ab" * 32, ".png")
    assert target.read_bytes() == b"same"
    again = put(tmp_path, "b.png", b"same")
    assert not image_store.place(again, "ab" * 32, ".png")
    assert again.exists()
    os.link(target, tmp_path / "half-moved.png")  # a crash between link and unlink
    assert image_store.place(tmp_path / "half-moved.png", "ab" * 32, ".png")
    assert not (tmp_path / "half-moved.png").exists()
    kept = put(tmp_path, "c.png", b"other")
    assert image_store.place(kept, "cd" * 32, ".png", keep=True)
    assert kept.exists()
    assert sorted(sha for sha, _ in image_store.entries()) == ["ab" * 32, "cd" * 32]
    image_store.sync()
