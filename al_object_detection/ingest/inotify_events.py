"""An inotify observer whose move pairing costs O(1) per moved-in file.

watchdog's ``InotifyMoveEventGrouper`` looks for the IN_MOVED_FROM matching each IN_MOVED_TO
by scanning its whole pending-event queue, twice. When thousands of files are renamed into a
drop folder faster than the emitter thread drains that queue, a burst of N files costs O(N^2)
under the GIL. :class:`CookieIndexedMoveGrouper` keeps the queued IN_MOVED_FROM events in a dict
by cookie, in step with the queue, so a file moved in from outside (no IN_MOVED_FROM) does no
scan at all; only a paired move still removes its from-event from the queue.

This follows the internals of watchdog 7.1 (``watchdog.observers.inotify`` and
``inotify_move_event_grouper``); importing this module fails at once if they are missing.
Linux only: other platforms keep watchdog's default observer.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from types import FunctionType
from typing import cast

from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup
from watchdog.observers.inotify_move_event_grouper import (
    GroupedInotifyEvent,
    InotifyMoveEventGrouper,
    PathedInotifyEvent,
)


def _sets(init: Callable[..., None], *names: str) -> list[str]:
    """``"<init> sets <name>"`` for each of ``names`` that ``init`` never mentions."""
    used = cast("FunctionType", init).__code__.co_names
    return [f"{init.__qualname__} sets {name}" for name in names if name not in used]


def _missing_watchdog_internals() -> list[str]:
    """What this module relies on in watchdog 7.1 and the installed watchdog lacks."""
    needed: dict[type, tuple[str, ...]] = {
        InotifyMoveEventGrouper: (
            "delay",
            "put_event",
            "read_event",
            "get_queued_moved_from_event",
            "discard_pending_events",
            "close",
        ),
        InotifyEmitter: ("on_thread_start", "get_event_mask_from_filter"),
        InotifyObserver: ("on_thread_stop",),
    }
    missing = [
        f"{cls.__name__}.{name}"
        for cls, names in needed.items()
        for name in names
        if not hasattr(cls, name)
    ]
    if not dataclasses.is_dataclass(InotifyWatchGroup) or "_move_event_grouper" not in {
        f.name for f in dataclasses.fields(InotifyWatchGroup)
    }:
        missing.append("InotifyWatchGroup._move_event_grouper (a dataclass field)")
    missing += _sets(InotifyMoveEventGrouper.__init__, "_queue")
    missing += _sets(InotifyEmitter.__init__, "_inotify_fd", "_inotify")
    missing += _sets(BaseObserver.__init__, "_emitter_class")
    return missing


if _missing := _missing_watchdog_internals():
    raise ImportError(
        "al_object_detection.ingest.inotify_events follows watchdog 7.1's inotify internals; "
        f"the installed watchdog lacks: {', '.join(_missing)}"
    )


class CookieIndexedMoveGrouper(InotifyMoveEventGrouper):
    """watchdog's grouper, with the queued IN_MOVED_FROM events indexed by cookie.

    An event enters the index when queued and leaves it when paired with its IN_MOVED_TO,
    handed out unpaired after the delay, or discarded with the pending events.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._moved_from: dict[int, PathedInotifyEvent] = {}

    def pending_cookies(self) -> list[int]:
        """The cookies of the IN_MOVED_FROM events waiting for their IN_MOVED_TO."""
        with self._lock:
            return list(self._moved_from)

    def put_event(self, event: PathedInotifyEvent) -> None:
        """Queue an event; an IN_MOVED_TO replaces its queued IN_MOVED_FROM by the pair."""
        with self._lock:
            if event.ev.is_moved_from:
                self._moved_from[event.ev.cookie] = event
                self._queue.put(event, delay=True)
            elif event.ev.is_moved_to:
                self._queue.put(self._paired(event))
            else:
                self._queue.put(event)

    def _paired(self, to_event: PathedInotifyEvent) -> GroupedInotifyEvent:
        from_event = self._moved_from.pop(to_event.ev.cookie, None)
        if from_event is None or self._queue.remove(lambda queued: queued is from_event) is None:
            return to_event
        return from_event, to_event

    def get_queued_moved_from_event(self, cookie: int) -> PathedInotifyEvent | None:
        """The queued IN_MOVED_FROM with this cookie, left in the queue."""
        with self._lock:
            return self._moved_from.get(cookie)

    def read_event(self) -> GroupedInotifyEvent | None:
        """The next event (after the delay for an unpaired IN_MOVED_FROM), or None once closed."""
        event = self._queue.get()
        if isinstance(event, PathedInotifyEvent) and event.ev.is_moved_from:
            with self._lock:
                if self._moved_from.get(event.ev.cookie) is event:
                    del self._moved_from[event.ev.cookie]
        return event

    def discard_pending_events(self) -> None:
        """Drop the queued events and their index."""
        with self._lock:
            self._queue.clear()
            self._moved_from.clear()


@dataclasses.dataclass
class CookieIndexedWatchGroup(InotifyWatchGroup):
    """watchdog's watch group, pairing moves with :class:`CookieIndexedMoveGrouper`."""

    _move_event_grouper: InotifyMoveEventGrouper = dataclasses.field(
        default_factory=CookieIndexedMoveGrouper, init=False
    )


class CookieIndexedEmitter(InotifyEmitter):
    """watchdog's inotify emitter over a :class:`CookieIndexedWatchGroup`."""

    def on_thread_start(self) -> None:
        """As watchdog's, with the watch group swapped."""
        self._inotify = CookieIndexedWatchGroup(
            self._inotify_fd,
            os.fsencode(self.watch.path),
            is_recursive=self.watch.is_recursive,
            event_mask=self.get_event_mask_from_filter(),
            follow_symlink=self.watch.follow_symlink,
        )


class CookieIndexedObserver(InotifyObserver):
    """watchdog's inotify observer (its inotify reader thread and stop included) with
    :class:`CookieIndexedEmitter` for every watch."""

    def __init__(self) -> None:
        super().__init__()
        # InotifyObserver.__init__ names its emitter class without a parameter for it.
        self._emitter_class = CookieIndexedEmitter
