"""Checks in batches, as the checker processes run them: each file read once, judged, staged.

A batch per task keeps the hand-over between processes (a pickled task and its answer) to one
per batch instead of one per file. A worker logs nothing: what went wrong travels back in
:attr:`Judged.problem` and the daemon logs it (:func:`results`). An accepted file that the
image store will copy (it has other names, or came through a symlink, or ``keep``) gets the
very bytes that were judged written to a partial file here, in parallel, so that placing it
costs no second read nor hash.
"""

from __future__ import annotations

import traceback
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
    """A file's verdict and, for an accepted file to be copied, its judged bytes on disk;
    ``problem``: the unexpected error met on the way, if any."""

    verdict: Verdict
    staged: Path | None = None
    problem: str = ""


def judge_batch(
    files: Sequence[tuple[Path, Path]], rules: IngestRules, image_store: ImageStore, keep: bool
) -> list[Judged]:
    """Judge each (path, drop folder) of ``files``; a check that fails is tried again later."""
    return [_judge(path, root, rules, image_store, keep) for path, root in files]


def results(future: Future[list[Judged]], files: Sequence[tuple[Path, Path]]) -> list[Judged]:
    """A batch's verdicts, its problems logged; a batch that failed is tried again later."""
    try:
        judged = future.result()
    except CheckersClosed:
        raise
    except Exception as error:  # noqa: BLE001 - logged; the files are tried again
        log.error("ingest_check_error", files=len(files), error=repr(error))
        return [Judged(Deferred(path, f"check failed: {error!r}")) for path, _ in files]
    for item in judged:
        path = str(item.verdict.path)
        if item.problem and isinstance(item.verdict, Accepted):  # judged; only staging failed
            log.warning("ingest_stage_error", path=path, error=item.problem)
        elif item.problem:
            log.error("ingest_check_error", path=path, error=item.problem)
    return judged


def _judge(
    path: Path, root: Path, rules: IngestRules, image_store: ImageStore, keep: bool
) -> Judged:
    try:
        verdict, data = read_and_inspect(path, root, rules)
    except Exception as error:  # noqa: BLE001 - sent back and logged by the daemon
        problem = "".join(traceback.format_exception(error))
        return Judged(Deferred(path, f"check failed: {error!r}"), problem=problem)
    if not isinstance(verdict, Accepted) or not (keep or verdict.shared):
        return Judged(verdict)
    try:
        return Judged(verdict, image_store.stage(data))
    except OSError as error:  # placing copies from the file itself, and reports what fails
        return Judged(verdict, problem=str(error))
