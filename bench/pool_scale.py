"""A round's data path on pools of 10k, 100k and 1M samples, with real FiftyOne writes.

Per size, on a MongoDB server of its own (FiftyOne's bundled mongod):

- ingest: the daemon's bulk pool writer (``PoolWriter.add``), samples per second;
- predictions: one round written by ``FiftyOneStore.write_predictions`` (synthetic boxes with
  per-class score vectors, 256-d embeddings; generating them is not counted);
- read: what the sampler reads (``steps.selection_pool``: pool ids, box scores, embeddings,
  the labeled set's embeddings and class counts);
- select: 5,000 picks with the project's default strategy (``--strategy`` another, as JSON);
- status: the counts the daemon refreshes for ``alod status`` and the ``alod status`` command;
- peak RSS of the build and of the sampling process (each size runs in fresh processes), the
  server's peak RSS and the database size.

Usage: python bench/pool_scale.py [--sizes 10000 100000 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

CLASSES = [f"class_{i}" for i in range(10)]
DIM, MEAN_BOXES, PICKS = 256, 5, 5000
GiB = 1024**3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--strategy", default="", help="a strategy as JSON (default: the project default)"
    )
    parser.add_argument("--phase", choices=("build", "sample"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase is not None:
        figures = build(args.size) if args.phase == "build" else sample(args.size, args.strategy)
        print(json.dumps(figures), flush=True)
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pool-scale-"))
    from al_object_detection.adapters.dataset.mongod import MongoServer

    server = MongoServer(work / "db", cache_gb=4.0)
    rows = []
    try:
        for size in args.sizes:
            row = {"size": size, **_child("build", size, server)}
            row.update(_child("sample", size, server, "--strategy", args.strategy))
            row.update(_status_latency(work / f"project-{size}", server, size))
            row.update(_database_size(server, size), server_peak_rss_gib=_peak_rss_gib(server))
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    _print_table(rows)


# -- the two phases, each in its own process ------------------------------------------------


def build(size: int) -> dict[str, Any]:
    """Ingest ``size`` samples, label 1% of them, write one round of predictions."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.ingest.pool import PoolWriter

    import_fiftyone()
    store = FiftyOneStore.open(_name(size), create=True)
    store.ensure_classes(CLASSES)
    writer = PoolWriter(store)
    images = [
        (hashlib.sha256(b"%d" % i).hexdigest(), Path(f"/pool/{i:08d}.jpg")) for i in range(size)
    ]
    started = time.perf_counter()
    writer.add(images)
    ingest_s = time.perf_counter() - started

    ids = store.ids("pool")
    _label(store, ids[::100])
    generated = _Timed(_predictions(ids, store.filepaths(ids)))
    started = time.perf_counter()
    written = store.write_predictions(generated, CLASSES, model_id="bench")
    write_s = time.perf_counter() - started - generated.seconds
    return {
        "ingest_per_s": size / ingest_s,
        "write_predictions_s": write_s,
        "written": written,
        "build_peak_rss_gib": _own_peak_rss_gib(),
    }


def sample(size: int, strategy: str = "") -> dict[str, Any]:
    """What one sampling step does: read the pool's arrays, pick 5,000; and the status counts."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.project import DEFAULT_STRATEGY
    from al_object_detection.states import steps
    from al_object_detection.strategies import build_sampler

    import_fiftyone()
    store = FiftyOneStore.open(_name(size))
    started = time.perf_counter()
    counts = store.counts()
    counts_s = time.perf_counter() - started

    load_before = os.getloadavg()[0]
    cpu = _CpuClock()
    started = time.perf_counter()
    pool_ids = store.ids("pool")
    ctx = SimpleNamespace(store=store)
    pool = steps.selection_pool(ctx, pool_ids, detector=SimpleNamespace(classes=CLASSES))  # type: ignore[arg-type]
    read_s = time.perf_counter() - started
    read_cpu = cpu.lap()

    sampler = build_sampler(json.loads(strategy) if strategy else DEFAULT_STRATEGY)
    started = time.perf_counter()
    chosen = sampler.choose(pool, PICKS, rng=np.random.default_rng(0))
    select_s = time.perf_counter() - started
    select_cpu = cpu.lap()
    assert len(chosen.positions) == PICKS
    return {
        "pool": counts["pool"],
        "labeled": counts["labeled"],
        "boxes": int(pool.box_offsets[-1]),
        "status_counts_s": counts_s,
        "read_s": read_s,
        "select_s": select_s,
        "sampling_step_s": read_s + select_s,
        "read_cpu_s": read_cpu,  # (this process, the database server)
        "select_cpu_s": select_cpu,
        "load_avg_1min": (load_before, os.getloadavg()[0]),
        "strategy": str(sampler),
        "sample_peak_rss_gib": _own_peak_rss_gib(),
    }


# -- synthetic data -------------------------------------------------------------------------


def _predictions(ids: list[str], paths: list[str]) -> Iterator[tuple[str, Any]]:
    """One prediction per sample: Poisson box counts, sigmoid-like scores, clustered embeddings."""
    from al_object_detection.adapters.detection.protocol import ImagePrediction

    rng = np.random.default_rng(0)
    centers = rng.standard_normal((200, DIM)).astype(np.float32)
    chunk = 10_000
    for start in range(0, len(ids), chunk):
        n = len(ids[start : start + chunk])
        counts = rng.poisson(MEAN_BOXES, n)
        scores = rng.beta(0.3, 3.0, (int(counts.sum()), len(CLASSES))).astype(np.float32)
        corners = rng.random((len(scores), 2), dtype=np.float32) * 500
        boxes = np.concatenate([corners, corners + 100], axis=1)
        embeddings = centers[rng.integers(0, len(centers), n)]
        embeddings += 0.3 * rng.standard_normal((n, DIM), dtype=np.float32)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for k in range(n):
            rows = slice(offsets[k], offsets[k + 1])
            yield ids[start + k], ImagePrediction(
                paths[start + k], 640, 640, boxes[rows], scores[rows].argmax(1),
                scores[rows].max(1), scores[rows], embeddings[k],
            )  # fmt: skip


class _CpuClock:
    """CPU seconds of this process and of the database server since the last lap."""

    def __init__(self) -> None:
        import psutil

        port = os.environ["FIFTYONE_DATABASE_URI"].rsplit(":", 1)[1].split("/")[0]
        servers = [
            p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "mongod" and port in (p.info["cmdline"] or [])
        ]  # fmt: skip
        self.server = servers[0] if servers else None
        self.last = self._now()

    def lap(self) -> tuple[float, float]:
        now = self._now()
        spent = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return spent

    def _now(self) -> tuple[float, float]:
        server = sum(self.server.cpu_times()[:2]) if self.server else float("nan")
        return time.process_time(), server


class _Timed:
    """An iterator that counts the seconds spent producing its items."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items, self.seconds = items, 0.0

    def __iter__(self) -> _Timed:
        return self

    def __next__(self) -> Any:
        started = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - started


def _label(store: Any, ids: list[str]) -> None:
    """Give ``ids`` one ground-truth box each and move them to the labeled split."""
    import fiftyone as fo

    box = fo.Detections(detections=[fo.Detection(label=CLASSES[0], bounding_box=[0, 0, 0.5, 0.5])])
    store.set_labels(dict.fromkeys(ids, box), round_index=0)


# -- measurements around the phases ---------------------------------------------------------


def _child(phase: str, size: int, server: Any, *options: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_DATABASE")}
    env["FIFTYONE_DATABASE_URI"] = server.uri
    command = [sys.executable, __file__, "--phase", phase, "--size", str(size), *options]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{phase} {size} failed:\n{run.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return figures


def _status_latency(root: Path, server: Any, size: int) -> dict[str, float]:
    """``alod status`` on a project of this dataset (it reads the files the daemon writes)."""
    from al_object_detection.states.store import RoundStore

    root.mkdir(parents=True, exist_ok=True)
    config = root / "alod.toml"
    config.write_text(
        f'[project]\nname = "bench"\nstate_dir = "state"\n\n[dataset]\nname = "{_name(size)}"\n'
        f'database_uri = "{server.uri}"\n\n[detector]\nmodel = "yolov8n.yaml"\n'
    )
    (root / "state").mkdir(exist_ok=True)
    RoundStore(root / "state" / "bench.sqlite").close()
    command = [sys.executable, "-m", "al_object_detection.cli", "status", "--config"]
    started = time.perf_counter()
    subprocess.run([*command, str(config)], capture_output=True, check=True)
    return {"alod_status_s": time.perf_counter() - started}


def _database_size(server: Any, size: int) -> dict[str, float]:
    from pymongo import MongoClient

    stats = MongoClient(server.uri)["fiftyone"].command("dbStats")
    return {"db_data_gib": stats["dataSize"] / GiB, "db_storage_gib": stats["storageSize"] / GiB}


def _peak_rss_gib(server: Any) -> float:
    """The server's peak resident set (VmHWM) so far."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / GiB
    return float("nan")


def _own_peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GiB


def _name(size: int) -> str:
    return f"pool-scale-{size}"


def _print_table(rows: list[dict[str, Any]]) -> None:
    columns = [
        ("size", "{:>9,}"), ("ingest_per_s", "{:>9,.0f}"), ("write_predictions_s", "{:>8.1f}"),
        ("read_s", "{:>7.1f}"), ("select_s", "{:>7.1f}"), ("sampling_step_s", "{:>7.1f}"),
        ("status_counts_s", "{:>7.2f}"), ("alod_status_s", "{:>7.2f}"),
        ("build_peak_rss_gib", "{:>7.2f}"), ("sample_peak_rss_gib", "{:>7.2f}"),
        ("server_peak_rss_gib", "{:>7.2f}"), ("db_storage_gib", "{:>7.2f}"),
    ]  # fmt: skip
    print("  ".join(name for name, _ in columns))
    for row in rows:
        print("  ".join(fmt.format(row[name]).rjust(len(name)) for name, fmt in columns))


if __name__ == "__main__":
    main()
