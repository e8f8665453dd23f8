"""Ingestion, end to end: candidates -> checks -> quarantine or image store -> the pool."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from al_object_detection.ingest import faults
from al_object_detection.ingest.candidates import Candidates
from al_object_detection.ingest.checkers import CheckersClosed, CheckerThreads
from al_object_detection.ingest.checks import (
    DUPLICATE,
    Accepted,
    Deferred,
    Rejected,
    Verdict,
    inspect_file,
)
from al_object_detection.ingest.image_store import ImageStore, SourceChanged
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
    resumed: int = 0  # drop files found already stored (a crash cut their move short)
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
        self._checkers = CheckerThreads(workers)

    def close(self) -> None:
        """Stop the checker threads without waiting for them; a running drain gives up."""
        self._checkers.close()

    # -- feeding -----------------------------------------------------------------------------

    def offer(self, path: Path, root: Path, complete: bool = False) -> None:
        """A file appeared or changed under the drop folder ``root``."""
        self.candidates.offer(path, root, closed=complete)

    def scan(self, folder: Path, root: Path) -> int:
        """Offer every file below ``folder`` (inside the drop folder ``root``)."""
        offered = 0
        for directory, subdirs, names in os.walk(folder, onerror=_walk_error):
            base = Path(directory)
            links = [d for d in subdirs if os.path.islink(base / d)]  # never followed: judged
            subdirs[:] = [d for d in subdirs if d not in links and not ignored(base / d, root)]
            for name in [*names, *links]:
                path = base / name
                if not ignored(path, root):
                    self.offer(path, root)
                    offered += 1
        return offered

    def recover(self) -> int:
        """Queue image store files that never reached the pool (a crash between the two)."""
        with self._lock:
            self.image_store.clean()
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
            try:
                futures = [self._checkers.submit(inspect_file, p, r, rules) for p, r in ready]
                for start in range(0, len(ready), _CHUNK):
                    part, checks = ready[start : start + _CHUNK], futures[start : start + _CHUNK]
                    verdicts = [_verdict(f, p) for f, (p, _) in zip(checks, part, strict=True)]
                    self._judge(part, verdicts)
                    self._publish()
            except CheckersClosed:
                return 0  # closing: what was not judged stays in the drop folder for next time
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
            if new:
                self.pool.add(new)
                faults.reach(faults.POOL_ADDED)
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
            else:
                placed = self._store(path, root, verdict, verdict.sha256 in known) or placed
        if placed:
            self.image_store.sync()

    def _store(self, path: Path, root: Path, image: Accepted, in_pool: bool) -> bool:
        """Put ``image`` into the image store; whether it needs publishing."""
        store, sha = self.image_store, image.sha256
        try:
            if store.resume(path, sha, image.suffix, keep=self.keep):
                self.stats.resumed += 1
                log.info("ingest_resumed", path=str(path), sha256=sha[:12])
            elif in_pool:
                self._reject(path, root, DUPLICATE, f"content {sha[:12]} is in the pool")
                return False
            elif not store.place(path, sha, image.suffix, image.identity, keep=self.keep):
                self._reject(path, root, DUPLICATE, f"content {sha[:12]} was dropped before")
                return False
            else:
                self.stats.accepted += 1
        except SourceChanged as error:
            log.debug("ingest_deferred", path=str(path), detail=str(error))
            self.candidates.defer(path, root, max(self.rules.settle_s, 0.5))
            return False
        except OSError as error:
            log.error("ingest_store_error", path=str(path), error=str(error), retry_s=_RETRY_S)
            self.candidates.defer(path, root, _RETRY_S)
            return False
        if not in_pool:
            self._unpublished[sha] = store.path_for(sha, image.suffix)
        return not in_pool

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


def _verdict(future: Future[Verdict], path: Path) -> Verdict:
    """A check's verdict; a check that failed unexpectedly is tried again later."""
    try:
        return future.result()
    except CheckersClosed:
        raise
    except Exception as error:
        log.exception("ingest_check_error", path=str(path), error=repr(error))
        return Deferred(path, f"check failed: {error!r}")


def _walk_error(error: OSError) -> None:
    log.warning("ingest_scan_error", path=str(error.filename), error=error.strerror)
