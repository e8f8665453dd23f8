"""Drop folders into a real FiftyOne pool: bad input quarantined, nothing lost or added twice."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.daemon.dropfolders import DropFolders
from al_object_detection.ingest import checks
from al_object_detection.ingest.image_store import FileIdentity, ImageStore
from al_object_detection.ingest.ingestor import Ingestor
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.ingest.rules import IngestRules
from tests.support.inotify import overflowed

from .images import bomb_png, jpeg, png

pytestmark = pytest.mark.integration


@contextmanager
def always_open() -> Iterator[bool]:
    yield True


class Setup:
    def __init__(
        self,
        tmp_path: Path,
        store: Any,
        gate: Callable[[], Any] = always_open,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        from al_object_detection.ingest.pool import PoolWriter

        self.drop = tmp_path / "drop"
        self.drop.mkdir()
        self.store = store
        self.ingestor = Ingestor(
            IngestRules(settle_s=0.3, grace_s=1.0),
            ImageStore(tmp_path / "image_store"),
            Quarantine(tmp_path / "quarantine"),
            PoolWriter(store),
            gate,
        )
        self.folders = DropFolders((self.drop,), self.ingestor, wake=wake)
        self.quarantine = tmp_path / "quarantine"

    def settle(self, until: Callable[[], bool], timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.folders.drain()
            if until():
                return
            time.sleep(0.1)
        raise AssertionError("ingestion did not settle")

    def pool_hashes(self) -> list[str]:
        self.store.dataset.reload()
        view = self.store.dataset.match({"al_split": "pool"})
        return [h for h in view.values("al_sha256") if h]

    def reasons(self) -> dict[str, int]:
        return dict(Quarantine(self.quarantine).reasons())


@pytest.fixture
def setup(tmp_path: Path, fresh_dataset: str) -> Iterator[Setup]:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    ready = Setup(tmp_path, FiftyOneStore.open(fresh_dataset, create=True))
    ready.folders.start()
    yield ready
    ready.folders.stop()
    ready.ingestor.close()


def test_bad_input_is_quarantined_and_good_input_joins_the_pool_once(setup: Setup) -> None:
    drop = setup.drop
    (drop / "a.png").write_bytes(png(colour=1))
    (drop / "a copy.png").write_bytes(png(colour=1))  # the same image under another name
    (drop / "sub").mkdir()
    (drop / "sub" / "\u00e9t\u00e9 \u5199\u771f.jpg").write_bytes(jpeg())
    (drop / "zero.png").write_bytes(b"")
    (drop / "truncated.jpg").write_bytes(jpeg((64, 64))[:300])
    (drop / "text.png").write_bytes(b"not an image, whatever the name says\n" * 4)
    (drop / "huge.png").write_bytes(bomb_png(20000, 20000))
    outside = drop.parent / "outside.png"
    outside.write_bytes(png(colour=2))
    (drop / "escape.png").symlink_to(outside)
    (drop / ".partial.png").write_bytes(png(colour=3))
    (drop / "download.png.tmp").write_bytes(png(colour=4))

    setup.settle(lambda: len(setup.pool_hashes()) == 2 and sum(setup.reasons().values()) == 6)
    assert setup.reasons() == {
        checks.DUPLICATE: 1, checks.EMPTY: 1, checks.CORRUPT: 1, checks.NOT_AN_IMAGE: 1,
        checks.PIXELS: 1, checks.SYMLINK_OUTSIDE: 1,
    }  # fmt: skip
    assert outside.exists()  # the link went to quarantine, never its target
    assert sorted(p.name for p in drop.rglob("*") if p.is_file()) == [
        ".partial.png", "download.png.tmp",
    ]  # fmt: skip
    (drop / ".partial.png").rename(drop / "finished.png")  # renamed: now it is ours
    setup.settle(lambda: len(setup.pool_hashes()) == 3)
    (drop / "a.png").write_bytes(png(colour=1))  # dropped again later
    setup.settle(lambda: setup.reasons().get(checks.DUPLICATE) == 2)
    assert len(setup.pool_hashes()) == len(set(setup.pool_hashes())) == 3
    assert setup.ingestor.stats.rejected[checks.DUPLICATE] == 2


def test_a_file_still_being_written_is_taken_when_complete(setup: Setup) -> None:
    # unfinished content is held for grace_s: far longer than this test, however slow the machine
    setup.ingestor.rules = dataclasses.replace(setup.ingestor.rules, grace_s=3600.0)
    data = jpeg((128, 96))
    path = setup.drop / "slow.jpg"
    with path.open("wb") as out:
        out.write(data[:200])
        out.flush()
        for _ in range(8):  # longer than settle_s with the file open and unfinished
            setup.folders.drain()
            time.sleep(0.1)
        out.write(data[200:])
    setup.settle(lambda: len(setup.pool_hashes()) == 1)
    assert setup.reasons() == {}


def test_a_deleted_folder_is_watched_again_and_a_crash_loses_nothing(setup: Setup) -> None:
    (setup.drop / "one.png").write_bytes(png(colour=10))
    setup.settle(lambda: len(setup.pool_hashes()) == 1)
    shutil.rmtree(setup.drop)
    time.sleep(0.3)
    setup.folders.refresh()
    assert setup.drop not in setup.folders.watcher.watched()
    setup.drop.mkdir()
    (setup.drop / "two.png").write_bytes(png(colour=11))  # before the watch is back
    setup.folders.refresh()
    assert setup.drop in setup.folders.watcher.watched()
    setup.settle(lambda: len(setup.pool_hashes()) == 2)

    # a crash after the move into the image store, before the pool: recovery publishes it
    image_store = setup.ingestor.image_store
    orphan = setup.drop.parent / "orphan.png"
    orphan.write_bytes(png(colour=12))
    digest = hashlib.sha256(orphan.read_bytes()).hexdigest()
    assert image_store.place(orphan, digest, ".png", FileIdentity.of(os.stat(orphan)))
    assert setup.ingestor.recover() == 1
    setup.settle(lambda: len(setup.pool_hashes()) == 3)
    assert digest in setup.pool_hashes()


def test_a_closed_gate_holds_images_in_the_image_store(tmp_path: Path, fresh_dataset: str) -> None:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    is_open = [False]

    @contextmanager
    def gate() -> Iterator[bool]:
        yield is_open[0]

    ready = Setup(tmp_path, FiftyOneStore.open(fresh_dataset, create=True), gate)
    (ready.drop / "x.png").write_bytes(png(colour=20))
    ready.ingestor.scan(ready.drop, ready.drop)
    time.sleep(0.4)
    ready.ingestor.drain()
    assert ready.ingestor.stats.accepted == 1
    assert ready.pool_hashes() == []
    assert ready.ingestor.pending() == 1
    is_open[0] = True
    assert ready.ingestor.publish() == 1
    assert len(ready.pool_hashes()) == 1
    ready.ingestor.close()


def test_an_inotify_overflow_asks_for_a_rescan(tmp_path: Path, fresh_dataset: str) -> None:
    """A real overflow: the watcher process is stopped while more events than the kernel
    queues arrive, the last of them a drop, whose events are lost; the rescan finds it."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    ready = Setup(tmp_path, FiftyOneStore.open(fresh_dataset, create=True))
    noise = ready.drop / ".noise"
    noise.mkdir()
    ready.folders.start()
    try:
        pid = ready.folders.watcher.pid
        assert pid is not None
        with overflowed(pid, noise):
            (ready.drop / "missed.png").write_bytes(png(colour=30))
            ready.folders.drain()
            assert (ready.ingestor.pending(), ready.pool_hashes()) == (0, [])  # nothing seen
        ready.settle(lambda: len(ready.pool_hashes()) == 1)
    finally:
        ready.folders.stop()
        ready.ingestor.close()


def test_a_job_queued_before_the_stop_does_nothing_after_it(setup: Setup) -> None:
    setup.folders.stop()  # what the daemon's shutdown does while a rescan job is queued
    setup.folders.periodic()
    setup.folders.refresh()
    setup.folders.drain()
    assert setup.folders.watcher.watched() == []


def test_symlinks_to_a_pipe_or_a_folder_are_quarantined_and_the_rest_proceeds(
    setup: Setup,
) -> None:
    drop = setup.drop
    (drop / ".h").mkdir()
    os.mkfifo(drop / ".h" / "f")
    (drop / "p.png").symlink_to(".h/f")
    (drop / "sub").mkdir()
    (drop / "d.png").symlink_to(drop / "sub")
    (drop / "good.png").write_bytes(png(colour=40))
    setup.settle(lambda: len(setup.pool_hashes()) == 1 and len(setup.reasons()) == 1)
    assert setup.reasons() == {checks.NOT_A_FILE: 2}
    assert sorted(p.name for p in drop.iterdir()) == [".h", "sub"]
    assert (drop / ".h" / "f").exists()  # the links went to quarantine, never their targets

    (drop / "later.png").symlink_to(drop / "sub")
    assert setup.ingestor.scan(drop, drop) == 1  # a rescan offers it too, not only an event
    setup.settle(lambda: setup.reasons() == {checks.NOT_A_FILE: 3})


def make_drop(folder: Path, count: int) -> list[Path]:
    """``count`` distinct images, as old as a file that is complete."""
    paths = []
    for index in range(count):
        path = folder / f"img_{index:05d}.png"
        path.write_bytes(png((8, 8), colour=index % 256) + index.to_bytes(4, "big"))
        os.utime(path, (1, 1))
        paths.append(path)
    return paths


def leave_cut_short_moves(ingestor: Ingestor, drop: Path, count: int) -> list[str]:
    """The state a kill between linking into the image store and unlinking leaves, for the
    last ``count`` files of the drop folder in scan order (so they are judged last)."""
    hashes = []
    for name in sorted(os.listdir(drop), key=os.listdir(drop).index)[-count:]:
        data = (drop / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        target = ingestor.image_store.path_for(sha, ".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(drop / name, target)
        hashes.append(sha)
    return hashes


@pytest.mark.parametrize(("files", "publish_first"), [(1500, False), (60, True)])
def test_a_kill_between_link_and_unlink_never_gives_false_duplicates(
    tmp_path: Path, fresh_dataset: str, files: int, publish_first: bool
) -> None:
    """1,500 files, 40 already linked into the image store, judged in chunks of 1,000; or
    any batch when a drain publishes the recovered images before the files are judged."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    ready = Setup(tmp_path, FiftyOneStore.open(fresh_dataset, create=True))
    make_drop(ready.drop, files)
    linked = leave_cut_short_moves(ready.ingestor, ready.drop, 40)
    assert ready.ingestor.recover() == 40  # the restart: every linked image is unpublished
    if publish_first:
        assert ready.ingestor.drain() == 0
        assert len(ready.pool_hashes()) == 40
    assert ready.ingestor.scan(ready.drop, ready.drop) == files
    ready.settle(lambda: len(ready.pool_hashes()) == files)
    ready.ingestor.close()
    assert ready.reasons() == {}
    assert list(ready.drop.iterdir()) == []
    assert sorted(ready.pool_hashes()) == sorted({*ready.pool_hashes(), *linked})
    assert ready.ingestor.stats.resumed == 40


def test_content_in_the_pool_from_elsewhere_is_a_duplicate_and_leaves_no_stored_copy(
    setup: Setup,
) -> None:
    import fiftyone as fo

    from al_object_detection.ingest.pool import HASH_FIELD

    elsewhere = setup.drop.parent / "added_by_hand.png"
    elsewhere.write_bytes(png(colour=60))
    sha = hashlib.sha256(elsewhere.read_bytes()).hexdigest()
    setup.store.dataset.add_sample(fo.Sample(filepath=str(elsewhere), **{HASH_FIELD: sha}))
    (setup.drop / "again.png").write_bytes(png(colour=60))  # its file is not in the image store
    setup.settle(lambda: setup.reasons() == {checks.DUPLICATE: 1})
    assert list((setup.drop.parent / "image_store").glob(f"??/{sha}*")) == []
    quarantined = list(setup.quarantine.glob("*_again.png"))
    assert [p.read_bytes() for p in quarantined] == [png(colour=60)]
    assert len(setup.store.dataset) == 1


def test_a_hard_linked_drop_file_is_not_shared_with_the_image_store(setup: Setup) -> None:
    outside = setup.drop.parent / "outside.png"
    outside.write_bytes(png(colour=50))
    os.link(outside, setup.drop / "linked.png")
    setup.settle(lambda: len(setup.pool_hashes()) == 1)
    outside.write_bytes(png(colour=51))  # the outside name is rewritten in place
    stored = setup.store.dataset.first()
    assert hashlib.sha256(Path(stored.filepath).read_bytes()).hexdigest() == stored.al_sha256
    assert setup.reasons() == {}
    twin = setup.drop.parent / "twin.png"
    twin.write_bytes(png(colour=50))
    os.link(twin, setup.drop / "again.png")  # the same content in another shared file
    setup.settle(lambda: setup.reasons() == {checks.DUPLICATE: 1})
    incoming = setup.drop.parent / "image_store" / ".incoming"
    assert [p.name for p in incoming.iterdir() if p.name.endswith(".partial")] == []


def test_pool_samples_are_what_fiftyone_itself_writes(tmp_path: Path, fresh_dataset: str) -> None:
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.ingest.pool import HASH_FIELD, PoolWriter

    fo = import_fiftyone()
    store = FiftyOneStore.open(fresh_dataset, create=True)
    writer = PoolWriter(store)
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for index, path in enumerate(paths):
        path.write_bytes(png(colour=index))
    assert writer.add([(f"{i:064x}", p) for i, p in enumerate(paths[:2])]) == 2
    store.dataset.add_samples(
        [fo.Sample(filepath=str(paths[2]), al_split="pool", al_sha256="f" * 64)]
    )
    ours, theirs = list(store.dataset._sample_collection.find().sort("filepath", 1))[1:]
    assert set(ours) == set(theirs)
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
    assert store.dataset.media_type == "image"
    assert store.counts()["pool"] == 3
    assert store.filepaths(store.ids("pool")) == [str(p) for p in paths]
    assert sorted(store.dataset.take(3).values(HASH_FIELD)) == [
        f"{0:064x}", f"{1:064x}", "f" * 64,
    ]  # fmt: skip
    assert writer.known([f"{1:064x}", "0" * 63 + "9"]) == {f"{1:064x}"}


def test_the_first_file_event_after_a_drain_asks_for_the_next_drain_at_once(
    tmp_path: Path, fresh_dataset: str
) -> None:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    wakes: list[int] = []
    ready = Setup(
        tmp_path, FiftyOneStore.open(fresh_dataset, create=True), wake=lambda: wakes.append(1)
    )
    ready.folders.start()
    try:
        for colour in (11, 12, 13):
            (ready.drop / f"{colour}.png").write_bytes(png(colour=colour))
        wait_until(lambda: ready.ingestor.pending() == 3)
        assert len(wakes) == 1  # no drain ran meanwhile: asked once, on the first event
        ready.folders.drain()
        (ready.drop / "later.png").write_bytes(png(colour=14))
        wait_until(lambda: len(wakes) >= 2)  # the events after the drain ask again
    finally:
        ready.folders.stop()
        ready.ingestor.close()


def wait_until(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.02)
