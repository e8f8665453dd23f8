"""Ingestion, end to end: candidates -> checks -> quarantine or image store -> the pool."""

from __future__ import annotations

import os
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from al_object_detection.ingest import faults
from al_object_detection.ingest.batch_checks import (
    BATCH,
    Judged,
    Packed,
    judge_and_pack,
    results,
)
from al_object_detection.ingest.candidates import Candidates
from al_object_detection.ingest.checkers import CheckerProcesses, CheckersClosed, default_workers
from al_object_detection.ingest.checks import DUPLICATE, Accepted, Deferred, Rejected
from al_object_detection.ingest.image_store import ImageStore, SourceChanged
from al_object_detection.ingest.pool import PoolWriter
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.ingest.rules import IngestRules
from al_object_detection.ingest.watcher import ignored

log = structlog.get_logger("alod.ingest")

#: A context that holds the pool's lock and says whether samples may be added now.
Gate = Callable[[], AbstractContextManager[bool]]
_RETRY_S = 30.0
_PER_CHUNK = 32  # batches judged, placed and published together
#: Batches handed to the checkers, oldest first, with the files of each.
_Checking = deque[tuple[Future[list[Packed]], list[tuple[Path, Path]]]]


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
        checkers: CheckerProcesses | None = None,
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
        self._lock = threading.Lock()  # one drain, publish or recovery at a time
        self._placed_lock = threading.Lock()  # _unpublished, shared with the publisher thread
        self._publisher = ThreadPoolExecutor(1, thread_name_prefix="ingest-publish")
        self._checkers = checkers or checker_processes()

    def close(self) -> None:
        """Stop the checker processes without waiting for them; a running drain gives up."""
        self._checkers.close()
        self._publisher.shutdown(wait=False)

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
            with self._placed_lock:
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

        The checker processes run ahead on the next batches while this thread moves the
        current chunk into the image store, and the publisher thread adds the previous chunk
        to the pool meanwhile (one chunk at a time, in order). Before each chunk, files that
        became complete are handed to the checkers too, so that they never wait for this
        thread to finish what it took earlier.
        """
        judged = 0
        checking: _Checking = deque()
        with self._lock:
            publishing: Future[int] | None = None
            try:
                while self._check_ready(checking) or checking:
                    chunk = [checking.popleft() for _ in range(min(len(checking), _PER_CHUNK))]
                    files = [file for _, batch in chunk for file in batch]
                    self._judge(files, [j for f, batch in chunk for j in results(f, batch)])
                    if publishing is not None:
                        publishing.result()
                    publishing = self._publisher.submit(self._publish)
                    judged += len(files)
                if publishing is not None:
                    publishing.result()
            except CheckersClosed:
                return 0  # closing: what was not judged stays in the drop folder for next time
            finally:
                if publishing is not None:
                    wait([publishing])  # no publish outlives the drain
            if not judged:
                self._publish()  # images the round held back earlier
        return judged

    def _check_ready(self, checking: _Checking) -> int:
        """Hand the files complete now to the checkers, in batches; how many."""
        ready = self.candidates.take_ready()
        for start in range(0, len(ready), BATCH):
            batch = ready[start : start + BATCH]
            wire = [(str(path), str(root)) for path, root in batch]
            future = self._checkers.submit(
                judge_and_pack, wire, self.rules, self.image_store, self.keep
            )
            checking.append((future, batch))
        return len(ready)

    def publish(self) -> int:
        """Add accepted images to the pool, when the round allows it."""
        with self._lock:
            return self._publish()

    def _publish(self) -> int:
        with self._placed_lock:
            items = sorted(self._unpublished.items())
        if not items:
            return 0
        with self.gate() as allowed:
            if not allowed:
                return 0
            known = self.pool.known(sha for sha, _ in items)  # publishes go one at a time
            new = [(sha, path) for sha, path in items if sha not in known and path.exists()]
            if new:
                self.pool.add(new)
                faults.reach(faults.POOL_ADDED)
            with self._placed_lock:
                for sha, _ in items:
                    del self._unpublished[sha]
        self.stats.published += len(new)
        if new:
            log.info("ingest_published", images=len(new))
            self.on_published(len(new))
        return len(new)

    def _judge(self, ready: list[tuple[Path, Path]], judged: list[Judged]) -> None:
        accepted = (j.verdict for j in judged if isinstance(j.verdict, Accepted))
        known = self.pool.known(v.sha256 for v in accepted)
        placed = False
        for (path, root), (verdict, staged) in zip(
            ready, ((j.verdict, j.staged) for j in judged), strict=True
        ):
            if isinstance(verdict, Deferred):
                log.debug("ingest_deferred", path=str(path), detail=verdict.detail)
                self.candidates.defer(path, root, max(self.rules.settle_s, 0.5))
            elif isinstance(verdict, Rejected):
                self._reject(path, root, verdict.reason, verdict.detail)
            else:
                in_pool = verdict.sha256 in known
                placed = self._store(path, root, verdict, in_pool, staged) or placed
        if placed:
            self.image_store.sync()

    def _store(
        self, path: Path, root: Path, image: Accepted, in_pool: bool, staged: Path | None
    ) -> bool:
        """Put ``image`` into the image store; whether it needs publishing.

        New content is placed first: only when that finds it stored already can ``path`` be
        the stored image itself, left behind by a crash (a resume), or a duplicate.
        """
        store, sha, keep = self.image_store, image.sha256, self.keep
        try:
            if not in_pool and store.place(
                path, sha, image.suffix, image.identity, keep=keep, staged=staged
            ):
                self.stats.accepted += 1
            elif store.resume(path, sha, image.suffix, keep=keep):
                self.stats.resumed += 1
                log.info("ingest_resumed", path=str(path), sha256=sha[:12])
            else:
                where = "is in the pool" if in_pool else "was dropped before"
                self._reject(path, root, DUPLICATE, f"content {sha[:12]} {where}")
                return False
        except SourceChanged as error:
            log.debug("ingest_deferred", path=str(path), detail=str(error))
            self.candidates.defer(path, root, max(self.rules.settle_s, 0.5))
            return False
        except OSError as error:
            log.error("ingest_store_error", path=str(path), error=str(error), retry_s=_RETRY_S)
            self.candidates.defer(path, root, _RETRY_S)
            return False
        finally:
            if staged is not None:
                staged.unlink(missing_ok=True)  # stored (another name) or of no use
        if not in_pool:
            with self._placed_lock:
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


def checker_processes() -> CheckerProcesses:
    """Processes for the checks, not started yet (``start()`` them early: they import)."""
    return CheckerProcesses(default_workers(), preload=(judge_and_pack.__module__,))


def _walk_error(error: OSError) -> None:
    log.warning("ingest_scan_error", path=str(error.filename), error=error.strerror)
