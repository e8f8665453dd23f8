"""A batch's answer crosses between processes without its paths and comes back whole."""

from __future__ import annotations

import os
from concurrent.futures import Future
from pathlib import Path

from al_object_detection.ingest.batch_checks import judge_and_pack, judge_batch, results
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.rules import IngestRules
from tests.daemon.images import png


def test_packed_answers_unpack_to_the_verdicts_judged_in_place(tmp_path: Path) -> None:
    drop, outside = tmp_path / "drop", tmp_path / "outside.png"
    drop.mkdir()
    (drop / "image.png").write_bytes(png(colour=1))
    outside.write_bytes(png(colour=2))
    os.link(outside, drop / "shared.png")  # accepted and staged: the image store copies it
    (drop / "notes.txt").write_bytes(b"text")  # rejected: not an image suffix
    (drop / "empty.png").write_bytes(b"")  # deferred: it may still be written
    files = [(drop / name, drop) for name in ("image.png", "shared.png", "notes.txt", "empty.png")]
    rules, store = IngestRules(grace_s=3600.0), ImageStore(tmp_path / "store")

    future: Future[list] = Future()  # type: ignore[type-arg]
    future.set_result(judge_and_pack([(str(p), str(r)) for p, r in files], rules, store, False))
    unpacked = results(future, files)
    direct = judge_batch(files, rules, store, False)

    assert [j.verdict for j in unpacked] == [j.verdict for j in direct]
    assert [type(j.verdict).__name__ for j in unpacked] == [
        "Accepted", "Accepted", "Rejected", "Deferred",
    ]  # fmt: skip
    assert unpacked[1].staged is not None
    assert unpacked[1].staged.read_bytes() == outside.read_bytes()
    assert all(j.verdict.path == path for j, (path, _) in zip(unpacked, files, strict=True))
