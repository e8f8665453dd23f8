"""One dropped file, judged; the settle tracker; quarantine and image store (no FiftyOne)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from al_object_detection.ingest import checks
from al_object_detection.ingest.batch_checks import judge_batch
from al_object_detection.ingest.candidates import Candidates
from al_object_detection.ingest.checks import Accepted, Deferred, Rejected, inspect_file
from al_object_detection.ingest.image_store import FileIdentity, ImageStore, SourceChanged
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


def inspect_in_thread(path: Path, root: Path) -> checks.Verdict:
    """``inspect_file``, failing (not hanging) if it blocks."""
    verdicts: list[checks.Verdict] = []
    thread = threading.Thread(
        target=lambda: verdicts.append(inspect_file(path, root, RULES)), daemon=True
    )
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # unblock it: open the pipe for writing, then give up
        os.close(os.open(tmp_fifo(root), os.O_WRONLY | os.O_NONBLOCK))
        raise AssertionError(f"inspecting {path.name} blocked")
    assert verdicts, f"inspecting {path.name} raised (see the thread's traceback)"
    return verdicts[0]


def tmp_fifo(root: Path) -> Path:
    return root / ".h" / "f"


def test_symlinks_to_anything_but_a_regular_file_are_refused_without_blocking(
    tmp_path: Path,
) -> None:
    drop = tmp_path
    (drop / ".h").mkdir()
    os.mkfifo(tmp_fifo(drop))
    (drop / "p.png").symlink_to(".h/f")  # a reader that opens this waits for a writer
    (drop / "sub").mkdir()
    (drop / "d.png").symlink_to(drop / "sub")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(drop / ".h" / "s"))
        (drop / "s.png").symlink_to(".h/s")
        (drop / "loop.png").symlink_to("loop.png")
        expected = {
            "p.png": (checks.NOT_A_FILE, "symlink to a named pipe"),
            "d.png": (checks.NOT_A_FILE, "symlink to a folder"),
            "s.png": (checks.NOT_A_FILE, "symlink to a socket"),
            "loop.png": (checks.BROKEN_SYMLINK, "symlink target unusable"),
        }
        for name, (reason, detail) in expected.items():
            verdict = inspect_in_thread(drop / name, drop)
            assert isinstance(verdict, Rejected), (name, verdict)
            assert (verdict.reason, verdict.detail.split(":")[0].split(",")[0]) == (
                reason, detail,
            )  # fmt: skip


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
    assert len(candidates) == 0


def test_a_closed_file_made_anew_waits_and_a_vanished_one_is_forgotten(
    tmp_path: Path,
) -> None:
    clock = [100.0]
    candidates = Candidates(settle_s=1.0, clock=lambda: clock[0])
    path = put(tmp_path, "again.png", b"x")
    candidates.offer(path, tmp_path, closed=True)
    path.unlink()
    path.write_bytes(b"xx")  # created again under the same name, still being written
    candidates.offer(path, tmp_path)
    assert candidates.take_ready() == []
    clock[0] += 1.1
    assert candidates.take_ready() == [(path, tmp_path)]
    gone = put(tmp_path, "gone.png", b"z")
    candidates.offer(gone, tmp_path, closed=True)
    gone.unlink()
    assert candidates.take_ready() == [(gone, tmp_path)]  # the checks find it gone: deferred
    candidates.defer(gone, tmp_path, 0.5)
    clock[0] += 0.5
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


def judged(path: Path) -> tuple[str, FileIdentity]:
    """The hash and identity a check would give ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), FileIdentity.of(os.stat(path))


def test_image_store_places_each_content_once(tmp_path: Path) -> None:
    image_store = ImageStore(tmp_path / "lib")
    first = put(tmp_path, "a.png", b"same")
    sha, identity = judged(first)
    assert image_store.place(first, sha, ".png", identity)
    assert not first.exists()
    target = image_store.path_for(sha, ".png")
    assert target.read_bytes() == b"same"
    again = put(tmp_path, "b.png", b"same")
    assert not image_store.resume(again, sha, ".png")  # the same bytes, another file
    assert not image_store.place(again, sha, ".png", judged(again)[1])
    assert again.exists()
    kept = put(tmp_path, "c.png", b"other")
    other, kept_identity = judged(kept)
    assert image_store.place(kept, other, ".png", kept_identity, keep=True)
    assert kept.exists()
    assert sorted(sha for sha, _ in image_store.entries()) == sorted([sha, other])
    image_store.sync()


def test_the_first_place_makes_every_shard_and_a_removed_one_is_made_again(
    tmp_path: Path,
) -> None:
    image_store = ImageStore(tmp_path / "lib")
    first = put(tmp_path, "a.png", b"first")
    first_sha, first_identity = judged(first)
    assert image_store.place(first, first_sha, ".png", first_identity)
    shards = sorted(p.name for p in image_store.folder.iterdir())
    assert shards == [f"{byte:02x}" for byte in range(256)]  # none made again per file
    second = put(tmp_path, "b.png", b"second")
    sha, identity = judged(second)
    image_store.path_for(sha, ".png").parent.rmdir()  # removed by hand meanwhile
    assert image_store.place(second, sha, ".png", identity)
    assert image_store.path_for(sha, ".png").read_bytes() == b"second"


def test_a_file_changed_since_it_was_judged_is_not_placed(tmp_path: Path) -> None:
    image_store = ImageStore(tmp_path / "lib")
    path = put(tmp_path, "a.png", b"judged")
    sha, identity = judged(path)
    path.write_bytes(b"rewritten after the check")
    with pytest.raises(SourceChanged):
        image_store.place(path, sha, ".png", identity)
    assert list(image_store.entries()) == []
    assert path.exists()


def test_stored_images_are_the_daemons_own_bytes(tmp_path: Path) -> None:
    image_store, drop = ImageStore(tmp_path / "lib"), tmp_path / "drop"
    drop.mkdir()
    outside = put(tmp_path, "outside.png", png(colour=1))
    os.link(outside, drop / "shared.png")  # dropped as a hard link: the file has two names
    sha, identity = judged(drop / "shared.png")
    assert image_store.place(drop / "shared.png", sha, ".png", identity)
    outside.write_bytes(png(colour=2))  # the outside name is rewritten in place
    stored = image_store.path_for(sha, ".png")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert (os.stat(stored).st_nlink, outside.exists(), (drop / "shared.png").exists()) == (
        1, True, False,
    )  # fmt: skip

    only = put(drop, "only.png", png(colour=3))  # one name only: moved in, not copied
    inode = os.stat(only).st_ino
    only_sha, only_identity = judged(only)
    assert image_store.place(only, only_sha, ".png", only_identity)
    assert os.stat(image_store.path_for(only_sha, ".png")).st_ino == inode

    target = put(drop, "target.png", png(colour=4))
    (drop / "link.png").symlink_to(target)  # a symlink inside: its target is copied
    link_sha, link_identity = judged(drop / "link.png")
    assert image_store.place(drop / "link.png", link_sha, ".png", link_identity)
    assert not (drop / "link.png").is_symlink()
    assert target.exists()
    assert os.stat(image_store.path_for(link_sha, ".png")).st_ino != os.stat(target).st_ino


def test_a_batch_stages_the_judged_bytes_of_the_files_the_store_copies(tmp_path: Path) -> None:
    image_store, drop = ImageStore(tmp_path / "lib"), tmp_path / "drop"
    drop.mkdir()
    only = put(drop, "only.png", png(colour=7))
    outside = put(tmp_path, "outside.png", png(colour=8))
    shared = drop / "shared.png"
    os.link(outside, shared)
    target = put(drop, "target.png", png(colour=9))
    (drop / "link.png").symlink_to(target)
    text = put(drop, "text.png", b"no image")
    files = [only, shared, drop / "link.png", text]
    judged = judge_batch([(path, drop) for path in files], RULES, image_store, keep=False)
    verdicts = [j.verdict for j in judged]
    assert [type(v) for v in verdicts] == [Accepted, Accepted, Accepted, Rejected]
    assert [j.staged is not None for j in judged] == [False, True, True, False]
    for j, path in zip(judged[1:3], files[1:3], strict=True):
        assert j.staged is not None
        assert j.staged.read_bytes() == path.read_bytes()
    kept = judge_batch([(only, drop)], RULES, image_store, keep=True)[0]
    assert kept.staged is not None
    assert kept.staged.read_bytes() == only.read_bytes()

    image = verdicts[1]
    assert isinstance(image, Accepted)
    staged = judged[1].staged
    assert image_store.place(shared, image.sha256, ".png", image.identity, staged=staged)
    stored = image_store.path_for(image.sha256, ".png")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == image.sha256
    assert os.stat(stored).st_ino != os.stat(outside).st_ino
    assert staged is not None
    assert os.stat(stored).st_ino == os.stat(staged).st_ino  # the judged bytes themselves
    assert not shared.exists()


def test_a_move_cut_short_by_a_crash_is_recognised_not_a_duplicate(tmp_path: Path) -> None:
    image_store, drop = ImageStore(tmp_path / "lib"), tmp_path / "drop"
    drop.mkdir()
    linked = put(drop, "linked.png", png(colour=5))
    sha, _ = judged(linked)
    image_store.path_for(sha, ".png").parent.mkdir(parents=True)
    os.link(linked, image_store.path_for(sha, ".png"))  # killed after the link, before unlink
    assert image_store.resume(linked, sha, ".png")
    assert not linked.exists()

    # a copy committed, then killed before the drop name went: the record knows the file
    outside = put(tmp_path, "outside.png", png(colour=6))
    shared = drop / "shared.png"
    os.link(outside, shared)
    copy_sha, identity = judged(shared)
    record = image_store.incoming / f"{copy_sha}.source"
    image_store.incoming.mkdir(parents=True)
    record.write_text(json.dumps({"path": str(shared), **dataclasses.asdict(identity)}))
    stored = image_store.path_for(copy_sha, ".png")
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(shared.read_bytes())
    twin = put(drop, "twin.png", shared.read_bytes())  # the same content, another file
    assert not image_store.resume(twin, copy_sha, ".png")
    assert image_store.resume(shared, copy_sha, ".png")
    assert (shared.exists(), record.exists(), outside.exists()) == (False, False, True)


def test_clean_removes_what_interrupted_copies_left(tmp_path: Path) -> None:
    image_store = ImageStore(tmp_path / "lib")
    source = put(tmp_path, "a.png", b"content")
    sha, identity = judged(source)
    image_store.incoming.mkdir(parents=True)
    old, fresh = image_store.incoming / "old.partial", image_store.incoming / "fresh.partial"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")  # another process may be copying right now
    record = image_store.incoming / f"{sha}.source"
    record.write_text(json.dumps({"path": str(source), **dataclasses.asdict(identity)}))
    image_store.path_for(sha, ".png").parent.mkdir(parents=True)
    image_store.path_for(sha, ".png").write_bytes(b"content")
    now = time.time()
    os.utime(old, (now - 7200, now - 7200))
    assert image_store.clean(now) == 1
    assert (old.exists(), fresh.exists(), record.exists()) == (False, True, True)
    source.unlink()  # the drop file is gone: its record is of no use
    assert image_store.clean(now) == 1
    assert not record.exists()


def test_clean_removes_a_stored_images_partial_name_at_once(tmp_path: Path) -> None:
    """A crash between linking a partial copy into the store and removing the partial."""
    image_store = ImageStore(tmp_path / "lib")
    partial = image_store.stage(b"content")
    stored = image_store.path_for(hashlib.sha256(b"content").hexdigest(), ".png")
    image_store.make_shard(stored.stem)
    os.link(partial, stored)
    unrelated = image_store.stage(b"another copy, maybe still in use")
    assert image_store.clean() == 1
    assert (partial.exists(), unrelated.exists(), stored.stat().st_nlink) == (False, True, 1)
