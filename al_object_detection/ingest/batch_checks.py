"""Checks in batches, as the checker threads run them: each file read once, judged and staged.

A batch per task keeps the hand-over between threads (a future, a lock, a wake-up) to one per
batch instead of one per file. An accepted file that the image store will copy (it has other
names, or came through a symlink, or ``keep``) gets the very bytes that were judged written
to a partial file here, in parallel, so that placing it costs no second read nor hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import structlog

from al_object_detection.ingest.checkers import CheckersClosed
from al_object_detection.ingest.checks import Accepted, Deferred, Verdict, read_and_inspect
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.rules import IngestRules

log = structlog.get_logger("alod.ingest")
BATCH = 32  # files per checker task


@dataclass(frozen=True)
class Judged:
    """A file's verdict and, for an accepted file to be copied, its judged bytes on disk."""

    verdict: Verdict
    staged: Path | None = None


def judge_batch(
    files: Sequence[tuple[Path, Path]], rules: IngestRules, image_store: ImageStore, keep: bool
) -> list[Judged]:
    """Judge each (path, drop folder) of ``files``; a check that fails is tried again later."""
    return [_judge(path, root, rules, image_store, keep) for path, root in files]


def results(future: Future[list[Judged]], files: Sequence[tuple[Path, Path]]) -> list[Judged]:
    """A batch's verdicts; a batch that failed unexpectedly is tried again later."""
    try:
        return future.result()
    except CheckersClosed:
        raise
    except Exception as error:
        log.exception("ingest_check_error", files=len(files), error=repr(error))
        return [Judged(Deferred(path, f"check failed: {error!r}")) for path, _ in files]


def _judge(
    path: Path, root: Path, rules: IngestRules, image_store: ImageStore, keep: bool
) -> Judged:
    try:
        verdict, data = read_and_inspect(path, root, rules)
    except Exception as error:
        log.exception("ingest_check_error", path=str(path), error=repr(error))
        return Judged(Deferred(path, f"check failed: {error!r}"))
    if not isinstance(verdict, Accepted) or not (keep or verdict.shared):
        return Judged(verdict)
    try:
        return Judged(verdict, image_store.stage(data))
    except OSError as error:  # placing copies from the file itself, and reports what fails
        log.warning("ingest_stage_error", path=str(path), error=str(error))
        return Judged(verdict)
