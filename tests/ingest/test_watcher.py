"""FolderWatcher on real inotify: moves within a drop folder, moves into it, and a burst of them."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from al_object_detection.ingest.watcher import FolderWatcher

Reported = tuple[Path, Path, bool]


class _Seen:
    """The on_file calls, with a wait for a condition on them."""

    def __init__(self) -> None:
        self.calls: list[Reported] = []
        self._changed = threading.Condition()

    def on_file(self, path: Path, root: Path, complete: bool) -> None:
        with self._changed:
            self.calls.append((path, root, complete))
            self._changed.notify_all()

    def wait_for(self, done: Callable[[list[Reported]], bool], timeout_s: float = 60) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: done(self.calls), timeout=timeout_s), self.calls


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    (tmp_path / "drop").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "drop"


@pytest.fixture
def seen(drop: Path) -> Iterator[_Seen]:
    seen = _Seen()
    watcher = FolderWatcher([drop], seen.on_file, lambda folder, root: None)
    assert watcher.start() == [drop]
    yield seen
    watcher.stop()


def _written(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


@pytest.fixture
def before_watch(drop: Path) -> dict[str, Path]:
    """Files in place before the watch starts (their writes are not reported)."""
    return {
        "inside": _written(drop / "a.jpg"),
        "outside": _written(drop.parent / "outside" / "x.jpg"),
    }


def test_a_file_renamed_within_the_folder_is_reported_as_complete_at_its_destination(
    drop: Path, before_watch: dict[str, Path], seen: _Seen
) -> None:
    before_watch["inside"].rename(drop / "b.jpg")
    seen.wait_for(lambda calls: (drop / "b.jpg", drop, True) in calls)


def test_a_file_renamed_in_from_outside_is_reported(
    drop: Path, before_watch: dict[str, Path], seen: _Seen
) -> None:
    before_watch["outside"].rename(drop / "x.jpg")
    seen.wait_for(lambda calls: any(path == drop / "x.jpg" for path, _, _ in calls))


def test_every_file_of_a_burst_renamed_in_is_reported_once(drop: Path) -> None:
    outside = drop.parent / "outside"
    names = [f"{i:04d}.jpg" for i in range(2000)]
    for name in names:
        _written(outside / name)
    seen = _Seen()
    watcher = FolderWatcher([drop], seen.on_file, lambda folder, root: None)
    watcher.start()
    try:
        for name in names:
            os.rename(outside / name, drop / name)
        seen.wait_for(lambda calls: len({path for path, _, _ in calls}) == len(names))
        time.sleep(1.0)  # room for a late duplicate to show
    finally:
        watcher.stop()
    assert Counter(path for path, _, _ in seen.calls) == Counter(drop / name for name in names)
