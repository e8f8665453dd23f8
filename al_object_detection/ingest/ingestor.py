"""Ingestion, end to end: candidates -> checks -> quarantine or image store -> the pool."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from al_object_detection.ingest.candidates import Candidates
from al_object_detection.ingest.checks import (
    DUPLICATE,
    Accepted,
    Deferred,
    Rejected,
    Verdict,
    inspect_file,
)
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.pool import PoolWriter
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.ingest.rules import IngestRules
from al_object_detection.ingest.watcher import ignored

log = structlog.get_logger("alod.ingest")

#: A context that holds the pool's lock and says whether samples may be added now.
Gate = Callable[[], AbstractContextManager[bool]]
_RETRY_S = 30.0
_CHUNK = 1000  # files judged, placed and published together


@dataclass
class IngestStats:
    """What ingestion did since the process started."""

    accepted: int = 0
    published: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class Ingestor:
    """Turns dropped files into pool samples; every step is safe to repeat after a crash."""

    def __init__(
        self,
        rules: IngestRules,
        image_store: ImageStore,
        quarantine: Quarantine,
        pool: PoolWriter,
        gate: Gate,
        *,
        keep: bool = False,
        workers: int = 2,
        on_published: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.rules, self.image_store, self.quarantine, self.pool = (
            rules,
            image_store,
            quarantine,
            pool,
        )
        self.gate, self.keep, self.on_published = gate, keep, on_published
        self.candidates = Candidates(rules.settle_s)
        self.stats = IngestStats()
        self._unpublished: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._checkers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-check")

    def close(self) -> None:
        """Stop the checker threads."""
        self._checkers.shutdown(wait=True, cancel_futures=True)

    # -- feeding -----------------------------------------------------------------------------

    def offer(self, path: Path, root: Path, complete: bool = False) -> None:
        """A file appeared or changed under the drop folder ``root``."""
        self.candidates.offer(path, root, closed=complete)

    def scan(self, folder: Path, root: Path) -> int:
        """Offer every file below ``folder`` (inside the drop folder ``root``)."""
        offered = 0
        for directory, subdirs, names in os.walk(folder, onerror=_walk_error):
            base = Path(directory)
            subdirs[:] = [d for d in subdirs if not ignored(base / d, root)]
            for name in names:
                path = base / name
                if not ignored(path, root):
                    self.offer(path, root)
                    offered += 1
        return offered

    def recover(self) -> int:
        """Queue image store files that never reached the pool (a crash between the two)."""
        with self._lock:
            entries = dict(self.image_store.entries())
            known = self.pool.known(entries)
            missing = {sha: path for sha, path in entries.items() if sha not in known}
            self._unpublished.update(missing)
        if missing:
            log.info("ingest_recovered", images=len(missing))
        return len(missing)

    def pending(self) -> int:
        """Files waiting to be complete, plus accepted images not yet in the pool."""
        return len(self.candidates) + len(self._unpublished)

    # -- work --------------------------------------------------------------------------------

    def drain(self) -> int:
        """Judge every complete candidate and publish, chunk by chunk; returns files judged.

        The checker threads run ahead on the next chunks while this thread moves the current
        chunk into the image store and adds it to the pool.
        """
        with self._lock:
            ready = self.candidates.take_ready()
            rules = self.rules
            futures = [self._checkers.submit(inspect_file, p, r, rules) for p, r in ready]
            for start in range(0, len(ready), _CHUNK):
                part = ready[start : start + _CHUNK]
                self._judge(part, [f.result() for f in futures[start : start + _CHUNK]])
                self._publish()
            if not ready:
                self._publish()  # images the round held back earlier
        return len(ready)

    def publish(self) -> int:
        """Add accepted images to the pool, when the round allows it."""
        with self._lock:
            return self._publish()

    def _publish(self) -> int:
        if not self._unpublished:
            return 0
        with self.gate() as allowed:
            if not allowed:
                return 0
            items = sorted(self._unpublished.items())
            known = self.pool.known(sha for sha, _ in items)
            new = [(sha, path) for sha, path in items if sha not in known and path.exists()]
            self.pool.add(new)
            for sha, _ in items:
                del self._unpublished[sha]
        self.stats.published += len(new)
        if new:
            log.info("ingest_published", images=len(new))
            self.on_published(len(new))
        return len(new)

    def _judge(self, ready: list[tuple[Path, Path]], verdicts: list[Verdict]) -> None:
        known = self.pool.known(v.sha256 for v in verdicts if isinstance(v, Accepted))
        placed = False
        for (path, root), verdict in zip(ready, verdicts, strict=True):
            if isinstance(verdict, Deferred):
                log.debug("ingest_deferred", path=str(path), detail=verdict.detail)
                self.candidates.defer(path, root, max(self.rules.settle_s, 0.5))
            elif isinstance(verdict, Rejected):
                self._reject(path, root, verdict.reason, verdict.detail)
            elif verdict.sha256 in known:
                self._reject(path, root, DUPLICATE, f"content {verdict.sha256[:12]} is in the pool")
            else:
                placed = self._place(path, root, verdict) or placed
        if placed:
            self.image_store.sync()

    def _place(self, path: Path, root: Path, image: Accepted) -> bool:
        try:
            placed = self.image_store.place(path, image.sha256, image.suffix, keep=self.keep)
        except OSError as error:
            log.error("ingest_store_error", path=str(path), error=str(error), retry_s=_RETRY_S)
            self.candidates.defer(path, root, _RETRY_S)
            return False
        if not placed:
            self._reject(path, root, DUPLICATE, f"content {image.sha256[:12]} was dropped before")
            return False
        self._unpublished[image.sha256] = self.image_store.path_for(image.sha256, image.suffix)
        self.stats.accepted += 1
        return True

    def _reject(self, path: Path, root: Path, reason: str, detail: str) -> None:
        try:
            target = self.quarantine.put(path, root, reason, detail, keep=self.keep)
        except FileNotFoundError:
            return  # gone meanwhile: nothing to quarantine
        except OSError as error:
            log.error("ingest_quarantine_error", path=str(path), error=str(error), retry_s=_RETRY_S)
            self.candidates.defer(path, root, _RETRY_S)
            return
        self.stats.rejected[reason] += 1
        log.warning(
            "ingest_rejected", path=str(path), reason=reason, detail=detail, quarantined=str(target)
        )


def _walk_error(error: OSError) -> None:
    log.warning("ingest_scan_error", path=str(error.filename), error=error.strerror)
