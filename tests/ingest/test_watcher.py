"""The watchers on real inotify: moves within a drop folder, moves into it, a burst of them;
the watcher process's restart, stop and overflow report."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from al_object_detection.ingest.watcher import FolderWatcher
from al_object_detection.ingest.watcher_process import WatcherProcess
from tests.support.inotify import overflowed, state, wait_until

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


@pytest.fixture(params=[FolderWatcher, WatcherProcess], ids=["in_process", "own_process"])
def watcher_class(request: pytest.FixtureRequest) -> type[FolderWatcher | WatcherProcess]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def seen(drop: Path, watcher_class: type[FolderWatcher | WatcherProcess]) -> Iterator[_Seen]:
    seen = _Seen()
    watcher = watcher_class([drop], seen.on_file, lambda folder, root: None)
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


def test_every_file_of_a_burst_renamed_in_is_reported_once(
    drop: Path, watcher_class: type[FolderWatcher | WatcherProcess]
) -> None:
    outside = drop.parent / "outside"
    names = [f"{i:04d}.jpg" for i in range(2000)]
    for name in names:
        _written(outside / name)
    seen = _Seen()
    watcher = watcher_class([drop], seen.on_file, lambda folder, root: None)
    watcher.start()
    try:
        for name in names:
            os.rename(outside / name, drop / name)
        seen.wait_for(lambda calls: len({path for path, _, _ in calls}) == len(names))
        time.sleep(1.0)  # room for a late duplicate to show
    finally:
        watcher.stop()
    assert Counter(path for path, _, _ in seen.calls) == Counter(drop / name for name in names)


def test_a_watcher_process_that_died_is_started_again_and_its_folders_rescanned(
    drop: Path,
) -> None:
    seen, folders = _Seen(), []
    watcher = WatcherProcess([drop], seen.on_file, lambda f, root: folders.append(f))
    try:
        assert watcher.start() == [drop]
        first = watcher.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: not watcher.alive())
        assert watcher.refresh() == [drop]  # every folder: the daemon rescans what was missed
        assert watcher.alive()
        assert watcher.pid != first
        assert watcher.refresh() == []  # a live watch is not reported again
        (drop / "sub").mkdir()
        _written(drop / "sub" / "late.jpg")
        seen.wait_for(lambda calls: any(call[0] == drop / "sub" / "late.jpg" for call in calls))
        assert drop / "sub" in folders
    finally:
        watcher.stop()


def test_a_stopped_watcher_process_has_ended_and_watches_nothing(drop: Path) -> None:
    watcher = WatcherProcess([drop], lambda *a: None, lambda *a: None)
    watcher.start()
    pid = watcher.pid
    assert pid is not None
    watcher.stop()
    assert not Path(f"/proc/{pid}").exists() or state(pid) == "Z"
    assert (watcher.refresh(), watcher.watched(), watcher.alive()) == ([], [], False)


def test_a_real_inotify_overflow_is_reported_by_the_watcher_process(drop: Path) -> None:
    """Events are lost for real, and the overflow watchdog logs reaches us as ``on_overflow``."""
    noise = drop / ".noise"  # watched (so its events count), ignored as a drop
    noise.mkdir()
    seen, overflows = _Seen(), threading.Event()
    watcher = WatcherProcess([drop], seen.on_file, lambda *a: None, on_overflow=overflows.set)
    try:
        watcher.start()
        assert watcher.pid is not None
        with overflowed(watcher.pid, noise):
            _written(drop / "missed.jpg")
        assert overflows.wait(timeout=60)
        assert not [call for call in seen.calls if call[0].name == "missed.jpg"]
    finally:
        watcher.stop()
