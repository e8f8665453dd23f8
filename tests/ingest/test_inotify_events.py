"""The cookie-indexed move grouper: pairs, hands out unpaired events, keeps no stale index."""

from __future__ import annotations

import sys
import threading

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux only")

if sys.platform.startswith("linux"):
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent, Mask, WatchDescriptor
    from watchdog.observers.inotify_move_event_grouper import PathedInotifyEvent

    from al_object_detection.ingest.inotify_events import CookieIndexedMoveGrouper


def _event(mask: int, name: bytes, cookie: int = 0) -> PathedInotifyEvent:
    ev = InotifyEvent(WatchDescriptor(1), Mask(mask), cookie, name)
    return PathedInotifyEvent(ev, b"/drop/" + name)


def _moved_from(name: bytes, cookie: int) -> PathedInotifyEvent:
    return _event(InotifyConstants.IN_MOVED_FROM, name, cookie)


def _moved_to(name: bytes, cookie: int) -> PathedInotifyEvent:
    return _event(InotifyConstants.IN_MOVED_TO, name, cookie)


def test_a_moved_from_and_moved_to_with_one_cookie_become_one_pair() -> None:
    grouper = CookieIndexedMoveGrouper()
    source, destination = _moved_from(b"a.jpg", 7), _moved_to(b"b.jpg", 7)
    grouper.put_event(source)
    assert grouper.get_queued_moved_from_event(7) is source
    grouper.put_event(destination)
    assert grouper.read_event() == (source, destination)
    assert grouper.pending_cookies() == []


class _HourLongDelay(CookieIndexedMoveGrouper):
    delay = 3600.0


def test_an_unpaired_moved_to_is_handed_out_without_the_delay() -> None:
    grouper = _HourLongDelay()
    moved_in = _moved_to(b"x.jpg", 9)
    grouper.put_event(moved_in)
    read: list[object] = []
    reader = threading.Thread(target=lambda: read.append(grouper.read_event()), daemon=True)
    reader.start()
    reader.join(timeout=60)  # an hour's delay would keep it waiting
    grouper.close()
    assert read == [moved_in]
    assert grouper.get_queued_moved_from_event(9) is None


def test_an_unpaired_moved_from_is_handed_out_after_the_delay_and_leaves_the_index() -> None:
    grouper = CookieIndexedMoveGrouper()
    moved_out = _moved_from(b"gone.jpg", 11)
    grouper.put_event(moved_out)
    assert grouper.pending_cookies() == [11]
    assert grouper.read_event() is moved_out
    assert grouper.pending_cookies() == []
    assert grouper.get_queued_moved_from_event(11) is None


def test_discarding_clears_the_queue_and_the_index() -> None:
    grouper = CookieIndexedMoveGrouper()
    grouper.put_event(_moved_from(b"a.jpg", 1))
    grouper.put_event(_event(InotifyConstants.IN_CREATE, b"c.jpg"))
    grouper.discard_pending_events()
    assert grouper.pending_cookies() == []
    after = _event(InotifyConstants.IN_CLOSE_WRITE, b"d.jpg")
    grouper.put_event(after)
    assert grouper.read_event() is after
    # a moved_to whose moved_from was discarded comes out unpaired
    late = _moved_to(b"b.jpg", 1)
    grouper.put_event(late)
    assert grouper.read_event() is late
