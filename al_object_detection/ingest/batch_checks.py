"""Checks in batches, as the checker processes run them: each file read once, judged, staged.

A batch per task keeps the hand-over between processes (a pickled task and its answer) to one
per batch instead of one per file; paths travel as strings, and answers without them (the
daemon has them: building ``Path`` objects from a pickle held its GIL for longer than the
rest of the answer). A worker logs nothing: what went wrong travels back in
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
from typing import Any

import structlog

from al_object_detection.ingest.checkers import CheckersClosed
from al_object_detection.ingest.checks import (
    Accepted,
    Deferred,
    Rejected,
    Verdict,
    read_and_inspect,
)
from al_object_detection.ingest.image_store import FileIdentity, ImageStore
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


def judge_and_pack(
    files: Sequence[tuple[str, str]], rules: IngestRules, image_store: ImageStore, keep: bool
) -> list[Packed]:
    """:func:`judge_batch` as a checker process runs it: (path, drop folder) strings in,
    answers without paths out (see :func:`results`)."""
    judged = judge_batch([(Path(p), Path(r)) for p, r in files], rules, image_store, keep)
    return [_pack(j) for j in judged]


def results(future: Future[list[Packed]], files: Sequence[tuple[Path, Path]]) -> list[Judged]:
    """A batch's verdicts, its problems logged; a batch that failed is tried again later."""
    try:
        judged = [_unpack(p, path) for p, (path, _) in zip(future.result(), files, strict=True)]
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


#: A :class:`Judged` without its path: (kind, the verdict's other fields, staged, problem).
Packed = tuple[int, tuple[Any, ...], str | None, str]
_ACCEPTED, _REJECTED, _DEFERRED = range(3)


def _pack(judged: Judged) -> Packed:
    verdict, staged = judged.verdict, judged.staged
    kind: int
    body: tuple[Any, ...]
    if isinstance(verdict, Accepted):
        i = verdict.identity
        kind, body = _ACCEPTED, (
            verdict.sha256, verdict.suffix, verdict.width, verdict.height,
            (i.device, i.inode, i.size, i.mtime_ns), verdict.shared,
        )  # fmt: skip
    elif isinstance(verdict, Rejected):
        kind, body = _REJECTED, (verdict.reason, verdict.detail)
    else:
        kind, body = _DEFERRED, (verdict.detail,)
    return kind, body, None if staged is None else str(staged), judged.problem


def _unpack(packed: Packed, path: Path) -> Judged:
    kind, body, staged, problem = packed
    verdict: Verdict
    if kind == _ACCEPTED:
        sha256, suffix, width, height, identity, shared = body
        verdict = Accepted(path, sha256, suffix, width, height, FileIdentity(*identity), shared)
    elif kind == _REJECTED:
        verdict = Rejected(path, *body)
    else:
        verdict = Deferred(path, *body)
    return Judged(verdict, None if staged is None else Path(staged), problem)


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
