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
3. Idle: the same daemon with nothing to do: CPU % and RSS over ``--idle-s`` seconds.

    python bench/ingest.py [--files 10000] [--size 64] [--idle-s 60] [--drop move|link]

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
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--drop", choices=("move", "link"), default="move", help="see above")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="alod-bench-ingest-"))
    fo = import_fiftyone()  # the default database: the work folder is deleted at the end
    staging = work / "staging"
    print(f"making {args.files} images of {args.size}x{args.size} in {work}", flush=True)
    names = make_images(staging, args.files, args.size)
    os.sync()  # on disk, as files written before the kernel's writeback interval would be

    first, first_cpu = baseline(fo, [staging / name for name in names])
    print(f"add_images: {first:.2f}s", flush=True)
    daemon = drop_into_daemon(fo, work, staging, names, args.idle_s, args.drop)
    print(f"daemon: {daemon['daemon_s']:.2f}s", flush=True)
    stored = sorted((work / "project" / "state" / "images").rglob("*.png"))
    second, second_cpu = baseline(fo, stored)
    result = {
        "files": args.files,
        "drop": args.drop,
        "add_images_s": [round(first, 2), round(second, 2)],
        "add_images_cpu_s": [round(first_cpu, 2), round(second_cpu, 2)],
        **daemon,
        "ratio": round(min(first, second) / daemon["daemon_s"], 3),
        "cpu_ratio": round(min(first_cpu, second_cpu) / daemon["daemon_cpu_s"], 3),
    }
    print(json.dumps(result, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def make_images(folder: Path, n: int, size: int) -> list[str]:
    """``n`` distinct PNG files (random noise, seeded)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = []
    for index in range(n):
        name = f"drop_{index:06d}.png"
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name, compress_level=1)
        names.append(name)
    return names


def baseline(fo: Any, files: list[Path]) -> tuple[float, float]:
    """Seconds and CPU seconds for FiftyOne's ``add_images`` on ``files``, into a fresh dataset."""
    dataset = fo.Dataset(f"bench-add-images-{uuid.uuid4().hex[:8]}")
    started, cpu = time.perf_counter(), time.process_time()
    dataset.add_images([str(path) for path in files], progress=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(dataset) == len(files)
    dataset.delete()
    return seconds, cpu


def drop_into_daemon(
    fo: Any, work: Path, staging: Path, names: list[str], idle_s: float, how: str
) -> dict[str, Any]:
    """Time the daemon's ingestion of ``names`` and measure it idle afterwards."""
    dataset_name = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    store = FiftyOneStore.open(dataset_name, create=True)
    project = work / "project"
    config = write_config(project, dataset_name)
    cli = [sys.executable, "-m", "al_object_detection.cli"]
    pause = [*cli, "override", "--config", str(config), "pause", "--reason", "bench", "--yes"]
    subprocess.run(pause, check=True, capture_output=True)
    log = project / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen([*cli, "run", "--config", str(config)], stdout=out, stderr=out)
    try:
        wait_for(lambda: '"event": "ready"' in log.read_text(), 120)
        drop = project / "drop"
        cpu_before = cpu_ticks(daemon.pid)
        started = time.perf_counter()
        put = os.link if how == "link" else os.rename
        for name in names:
            put(staging / name, drop / name)
        dropped = time.perf_counter() - started
        wait_for(lambda: store.dataset.count() >= len(names), 600, poll_s=0.1)
        seconds = time.perf_counter() - started
        cpu_s = (cpu_ticks(daemon.pid) - cpu_before) / CLOCK_TICKS
        store.dataset.reload()
        hashes = store.dataset.values("al_sha256")
        lost = len(names) - len(set(hashes))
        duplicated = len(hashes) - len(set(hashes))
        left = sum(1 for p in drop.iterdir())
        quarantined = sum(1 for _ in (project / "state" / "quarantine").glob("*.reason.json"))
        time.sleep(5)  # let the last job runs end
        cpu, rss = idle_cost(daemon.pid, idle_s)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    store.dataset.delete()
    return {
        "daemon_s": round(seconds, 2),
        "daemon_cpu_s": round(cpu_s, 2),
        "drop_s": round(dropped, 2),
        "lost": lost,
        "duplicated": duplicated,
        "left_in_drop": left,
        "quarantined": quarantined,
        "idle_cpu_percent": round(cpu, 3),
        "idle_rss_mib": round(rss / 2**20, 1),
    }


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


def idle_cost(pid: int, seconds: float) -> tuple[float, int]:
    """CPU % (the process and its children) and the largest RSS seen, over ``seconds``."""
    cpu_before, rss = cpu_ticks(pid), 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        rss = max(rss, resident(pid))
        time.sleep(1.0)
    elapsed = time.perf_counter() - started
    return 100.0 * (cpu_ticks(pid) - cpu_before) / CLOCK_TICKS / elapsed, rss


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
