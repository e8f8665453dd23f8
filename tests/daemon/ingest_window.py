"""Kills in ingestion's commit window: the real daemon SIGKILLed at its fault points.

Each cycle drops a batch of distinct images into the watched folder (moved in as their only
name, hard-linked from a folder outside, or a mix), starts ``alod run`` (paused, so only
ingestion works) with one fault point armed (:mod:`al_object_detection.ingest.faults`): the
daemon stops itself with SIGSTOP the n-th time it gets there, and is SIGKILLed exactly there.
No timing decides where a kill lands. After each kill: no image is in the pool twice, nothing
is quarantined and every dropped image is still somewhere (the drop folder, the image store or
the pool). A last run without a fault must then ingest everything: each image once in the
pool, the drop folder empty, nothing quarantined, every stored file hashing to its name and
none shared with a file outside.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from al_object_detection.ingest.faults import POOL_ADDED, STORE_COMMITTED, STORE_MOVED

from .tiny import write_project

#: How dropped files arrive: renamed in (one name), hard-linked in (shared), or either.
ARRIVALS = ("moved", "shared", "mixed")
POINTS = (STORE_COMMITTED, STORE_MOVED, POOL_ADDED)


@dataclass(frozen=True)
class Cycle:
    """One killed run: the batch dropped before it and where the daemon is killed."""

    point: str
    after: int  # the n-th time the daemon reaches the point
    files: int
    arrival: str = "mixed"


@dataclass
class WindowReport:
    """What the campaign did and found wrong."""

    kills: list[Cycle] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # sha256 -> file name
    quarantined: int = 0
    final_code: int | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines for a person."""
        points = Counter(k.point for k in self.kills)
        return (
            f"{len(self.kills)} kills in the ingestion window in {self.seconds:.0f}s "
            f"({', '.join(f'{p} {n}' for p, n in sorted(points.items()))}); "
            f"{len(self.dropped)} images dropped; {self.quarantined} quarantined; "
            f"final run exit {self.final_code}\n"
            f"problems: {len(self.problems)}" + "".join(f"\n  {p}" for p in self.problems[:20])
        )


def plan(kills: int, seed: int, files: int = 40) -> list[Cycle]:
    """``kills`` cycles over every point and arrival, each killed at a seeded count."""
    rng = random.Random(seed)
    cycles = []
    for index in range(kills):
        point, arrival = POINTS[index % len(POINTS)], ARRIVALS[(index // 3) % len(ARRIVALS)]
        after = 1 if point == POOL_ADDED else rng.randint(1, files)
        cycles.append(Cycle(point, after, files, arrival))
    return cycles


class IngestWindowCampaign:
    """Drops, kills and checks the daemon of a paused tiny project under ``root``."""

    def __init__(self, root: Path, dataset: Any, *, wait_s: float = 120.0) -> None:
        self.root, self.dataset, self.wait_s = root, dataset, wait_s
        self.config = write_project(
            root, dataset.name, daemon={"settle_s": 0.2, "shutdown_timeout_s": 10.0}
        )
        self.drop, self.outside = root / "drop", root / "outside"
        self.image_store, self.quarantine = root / "state" / "images", root / "state" / "quarantine"
        self.drop.mkdir(exist_ok=True)
        self.outside.mkdir(exist_ok=True)
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.report = WindowReport()
        self._skewed = time.time() + 86400.0
        self._cli("override", "pause", "--reason", "ingestion window campaign", "--yes")

    def run(self, cycles: list[Cycle]) -> WindowReport:
        """Each cycle killed, then one run that must ingest everything."""
        started = time.monotonic()
        for index, cycle in enumerate(cycles):
            self._drop(cycle.files, cycle.arrival)
            self._killed_run(index, cycle)
            self._after_kill(f"cycle {index} ({cycle.point} #{cycle.after})")
        self._final_run()
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- runs ------------------------------------------------------------------------------

    def _spawn(self, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "al_object_detection.cli", "run"]
        with (self.logs / f"{name}.log").open("wb") as out:
            return subprocess.Popen(
                [*command, "--config", str(self.config)],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
            )  # fmt: skip

    def _killed_run(self, index: int, cycle: Cycle) -> None:
        marker = self.root / f"fault_{index:03d}"
        env = {
            "ALOD_FAULT_POINT": cycle.point,
            "ALOD_FAULT_AFTER": str(cycle.after),
            "ALOD_FAULT_MARKER": str(marker),
        }
        process = self._spawn(f"run_{index:03d}", env)
        try:
            if self._wait(lambda: marker.exists() and _stopped(process.pid), process):
                self.report.kills.append(cycle)
            else:
                self.report.problems.append(
                    f"cycle {index}: never stopped at {cycle.point} #{cycle.after} "
                    f"(exit {process.poll()})"
                )
        finally:
            process.kill()
            process.wait()

    def _final_run(self) -> None:
        process = self._spawn("final", {})
        try:
            done = self._wait(self._all_ingested, process)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                self.report.final_code = process.wait(timeout=self.wait_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not done:
            self.report.problems.append(f"final run: not everything ingested in {self.wait_s}s")
        self._final_checks()

    def _wait(self, condition: Any, process: subprocess.Popen[bytes]) -> bool:
        """Poll ``condition`` until it holds, the daemon exits or ``wait_s`` pass."""
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline and process.poll() is None:
            if condition():
                return True
            time.sleep(0.05)
        return bool(condition())

    # -- checks ----------------------------------------------------------------------------

    def _after_kill(self, where: str) -> None:
        counts = self._pool_counts()
        twice = [sha for sha, n in counts.items() if n > 1]
        if twice:
            self.report.problems.append(f"{where}: in the pool twice: {twice[:3]}")
        self._check_quarantine(where)
        in_drop = {_sha(p) for p in self.drop.rglob("*") if p.is_file()}
        stored = {p.name.split(".", 1)[0] for p in self.image_store.glob("??/*")}
        somewhere = in_drop | stored | set(counts)
        lost = [name for sha, name in self.report.dropped.items() if sha not in somewhere]
        if lost:
            self.report.problems.append(f"{where}: lost {lost[:3]}")

    def _final_checks(self) -> None:
        problems, counts = self.report.problems, self._pool_counts()
        if self.report.final_code != 0:
            problems.append(f"final run: exit code {self.report.final_code}")
        wrong = [(n, counts.get(sha, 0)) for sha, n in self.report.dropped.items()]
        wrong = [(name, times) for name, times in wrong if times != 1]
        if wrong:
            problems.append(f"final: images not in the pool exactly once: {wrong[:3]}")
        left = [p.name for p in self.drop.rglob("*")]
        if left:
            problems.append(f"final: left in the drop folder: {left[:3]}")
        self._check_quarantine("final")
        for path in self.image_store.glob("??/*"):
            if _sha(path) != path.name.split(".", 1)[0]:
                problems.append(f"final: {path.name} does not hash to its name")
            if path.stat().st_nlink != 1:
                problems.append(f"final: {path.name} shares its bytes with another name")

    def _check_quarantine(self, where: str) -> None:
        quarantined = [p.name for p in self.quarantine.glob("*.reason.json")]
        self.report.quarantined = len(quarantined)
        if quarantined:
            self.report.problems.append(f"{where}: quarantined {quarantined[:3]}")

    def _all_ingested(self) -> bool:
        counts = self._pool_counts()
        return all(counts.get(sha) for sha in self.report.dropped) and not any(self.drop.iterdir())

    def _pool_counts(self) -> dict[str, int]:
        self.dataset.reload()
        if not self.dataset.has_sample_field("al_sha256"):
            return {}
        return {h: n for h, n in self.dataset.count_values("al_sha256").items() if h}

    # -- drops -----------------------------------------------------------------------------

    def _drop(self, files: int, arrival: str) -> None:
        """``files`` new images, each complete before the daemon can see it.

        Their modification time is a day ahead (as from a machine with a skewed clock), so a
        restarted daemon's rescan waits ``settle_s`` before judging them: the images it
        recovered from the image store reach the pool first, the order that once made
        false duplicates.
        """
        first = len(self.report.dropped)
        for index in range(first, first + files):
            name = f"img_{index:05d}.png"
            staged = self.outside / name
            data = _image(index)
            staged.write_bytes(data)
            os.utime(staged, (self._skewed, self._skewed))
            shared = arrival == "shared" or (arrival == "mixed" and index % 2 == 0)
            if shared:
                os.link(staged, self.drop / name)  # the outside name stays
            else:
                staged.rename(self.drop / name)
            self.report.dropped[hashlib.sha256(data).hexdigest()] = name

    def _cli(self, *args: str) -> None:
        command = [sys.executable, "-m", "al_object_detection.cli"]
        subprocess.run(
            [*command, args[0], "--config", str(self.config), *args[1:]],
            check=True, capture_output=True,
        )  # fmt: skip


def _image(index: int) -> bytes:
    """A small PNG no other index gives."""
    buffer = io.BytesIO()
    colour = (index % 256, (index // 256) % 256, 200)
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue() + index.to_bytes(4, "big")  # trailing bytes: still decodable


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (it sent itself SIGSTOP at the fault point)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "T"
