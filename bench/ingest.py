"""Drop-folder ingestion against FiftyOne's own ``add_images``, and the idle daemon's cost.

1. Baseline: ``dataset.add_images(paths)`` on N image files, into a fresh dataset, timed.
2. The daemon: ``alod run`` (paused, so no round runs) watches a folder; the same N files are
   dropped into it at once, ``--drop move`` (renamed in from a folder on the same file system:
   each file's only name, which the daemon links into its image store) or ``--drop link``
   (hard-linked in: files shared with another folder, which the daemon copies so that its
   stored images stay its own bytes); timed from the drop until all N are pool samples.
   The images are flushed to disk first (as files written longer ago than the kernel's
   writeback interval would be): the daemon's per-chunk sync then flushes its own work
   (the renames, its image store) and not the benchmark's writes.
   Checked: zero lost, zero duplicated, nothing quarantined. Ratio = baseline seconds /
   daemon seconds (target >= 0.8). The baseline runs again after the daemon and the faster
   of the two counts. CPU ratio = the baseline's CPU seconds / the daemon's (its process
   and children, from the drop until done): the work each does, which a machine shared
   with other jobs changes far less than it changes wall-clock seconds.
3. ``--repeats R``: steps 1 and 2 again with R sets of N new images (other content), dropped
   one set at a time into the same running daemon (its pool grows by N each time); the
   median of the R ratios is the figure, as one drop on a 2-core machine moves by +-0.1.
4. Idle: the same daemon with nothing to do: CPU % and RSS over ``--idle-s`` seconds.

    python bench/ingest.py [--files 10000] [--size 64] [--repeats 5] [--idle-s 60]
                           [--drop move|link]

The daemon does more per file than ``add_images``, which opens no file (it stores paths): it
waits for the file to be complete, reads, hashes and decodes it, moves (or copies) it into its
content-addressed image store (flushed to disk before publishing) and checks for duplicates in
the dataset before adding it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (PNG)")
    parser.add_argument("--repeats", type=int, default=5, help="drops of N new images each")
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--drop", choices=("move", "link"), default="move", help="see above")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    work = Path(tempfile.mkdtemp(prefix="alod-bench-ingest-"))
    fo = import_fiftyone()  # the default database: the work folder is deleted at the end
    print(f"making {args.repeats} x {args.files} images of {args.size}px in {work}", flush=True)
    sets = [
        make_images(work / f"staging-{r}", args.files, args.size, r) for r in range(args.repeats)
    ]
    os.sync()  # on disk, as files written before the kernel's writeback interval would be

    with Daemon(fo, work) as daemon:
        drops = [daemon.timed_drop(fo, files, args.drop) for files in sets]
        cpu, rss = daemon.idle_cost(args.idle_s)
    ratios = [d["ratio"] for d in drops]
    result = {
        "files": args.files,
        "drop": args.drop,
        "drops": drops,
        "ratios": ratios,
        "ratio": round(float(np.median(ratios)), 3),
        "cpu_ratio": round(float(np.median([d["cpu_ratio"] for d in drops])), 3),
        **{key: drops[-1][key] for key in ("lost", "duplicated", "quarantined")},  # all drops
        "idle_cpu_percent": round(cpu, 3),
        "idle_rss_mib": round(rss / 2**20, 1),
    }
    print(json.dumps(result, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def make_images(folder: Path, n: int, size: int, seed: int) -> list[Path]:
    """``n`` distinct PNG files (random noise; another ``seed``, other content)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    files = []
    for index in range(n):
        path = folder / f"drop_{seed}_{index:06d}.png"
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, compress_level=1)
        files.append(path)
    return files


def baseline(fo: Any, files: list[Path]) -> tuple[float, float]:
    """Seconds and CPU seconds for FiftyOne's ``add_images`` on ``files``, into a fresh dataset."""
    dataset = fo.Dataset(f"bench-add-images-{uuid.uuid4().hex[:8]}")
    started, cpu = time.perf_counter(), time.process_time()
    dataset.add_images([str(path) for path in files], progress=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(dataset) == len(files)
    dataset.delete()
    return seconds, cpu


class Daemon:
    """``alod run`` on a paused project that watches ``work/project/drop``."""

    def __init__(self, fo: Any, work: Path) -> None:
        self.project = work / "project"
        self.dataset_name = f"bench-ingest-{uuid.uuid4().hex[:8]}"
        self.store = FiftyOneStore.open(self.dataset_name, create=True)
        self.config = write_config(self.project, self.dataset_name)
        self.dropped = 0

    def __enter__(self) -> Daemon:
        cli = [sys.executable, "-m", "al_object_detection.cli"]
        pause = [*cli, "override", "--config", str(self.config), "pause", "--reason", "bench"]
        subprocess.run([*pause, "--yes"], check=True, capture_output=True)
        log = self.project / "daemon.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*cli, "run", "--config", str(self.config)], stdout=out, stderr=out
            )
        try:
            wait_for(lambda: '"event": "ready"' in log.read_text(), 120)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.store.dataset.delete()

    def timed_drop(self, fo: Any, files: list[Path], how: str) -> dict[str, Any]:
        """Baseline, then ``files`` dropped and timed until all are pool samples, then the
        baseline again on the stored copies; lost, duplicated and quarantined count every drop
        so far."""
        first, first_cpu = baseline(fo, files)
        dataset = self.store.dataset
        before = set(dataset.values("filepath"))
        drop, pid = self.project / "drop", self.process.pid
        cpu_before = cpu_ticks(pid)
        started = time.perf_counter()
        put = os.link if how == "link" else os.rename
        for path in files:
            put(path, drop / path.name)
        dropped = time.perf_counter() - started
        self.dropped += len(files)
        samples = dataset._sample_collection  # counted from metadata: polled every 10 ms
        wait_for(lambda: samples.estimated_document_count() >= self.dropped, 600, poll_s=0.01)
        seconds = time.perf_counter() - started
        cpu_s = (cpu_ticks(pid) - cpu_before) / CLOCK_TICKS
        dataset.reload()
        hashes = dataset.values("al_sha256")
        stored = [Path(f) for f in dataset.values("filepath") if f not in before]
        time.sleep(1)  # the last job runs end before the baseline
        second, second_cpu = baseline(fo, stored)
        quarantine = self.project / "state" / "quarantine"
        drop_seconds = round(seconds, 2)
        print(f"add_images {first:.2f}s / {second:.2f}s, daemon {drop_seconds}s", flush=True)
        return {
            "add_images_s": [round(first, 2), round(second, 2)],
            "add_images_cpu_s": [round(first_cpu, 2), round(second_cpu, 2)],
            "daemon_s": drop_seconds,
            "daemon_cpu_s": round(cpu_s, 2),
            "drop_s": round(dropped, 2),
            "ratio": round(min(first, second) / seconds, 3),
            "cpu_ratio": round(min(first_cpu, second_cpu) / cpu_s, 3),
            "lost": self.dropped - len(set(hashes)),
            "duplicated": len(hashes) - len(set(hashes)),
            "left_in_drop": sum(1 for _ in drop.iterdir()),
            "quarantined": sum(1 for _ in quarantine.glob("*.reason.json")),
        }

    def idle_cost(self, seconds: float) -> tuple[float, int]:
        """CPU % (the process and its children) and the largest RSS seen, over ``seconds``."""
        time.sleep(5)  # let the last job runs end
        pid = self.process.pid
        cpu_before, rss = cpu_ticks(pid), 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            rss = max(rss, resident(pid))
            time.sleep(1.0)
        elapsed = time.perf_counter() - started
        return 100.0 * (cpu_ticks(pid) - cpu_before) / CLOCK_TICKS / elapsed, rss


def write_config(project: Path, dataset: str) -> Path:
    """A project that watches ``project/drop``."""
    (project / "drop").mkdir(parents=True)
    path = project / "alod.toml"
    lines = [
        "[project]", 'name = "bench"', 'state_dir = "state"',
        "[dataset]", f'name = "{dataset}"',
        "[detector]", 'model = "yolov8n.yaml"',
        "[daemon]", 'watch = ["drop"]', "metrics_interval_s = 15",
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def cpu_ticks(pid: int) -> int:
    """CPU ticks used by ``pid`` and its live children."""
    total = 0
    for proc in [pid, *children(pid)]:
        fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def resident(pid: int) -> int:
    """Resident memory of ``pid`` and its live children."""
    total = 0
    for proc in [pid, *children(pid)]:
        for line in Path(f"/proc/{proc}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def children(pid: int) -> list[int]:
    """The live children of ``pid``."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def wait_for(check: Any, timeout_s: float, poll_s: float = 0.5) -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout_s}s")
        time.sleep(poll_s)


if __name__ == "__main__":
    main()
