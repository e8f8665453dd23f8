"""The kill campaign: the real daemon on a tiny project, SIGKILLed at chosen fault points.

The plan (:func:`kill_plan`) names one fault point per working state, per side effect and
``completed``, each in a round the seed picks; every cycle starts ``alod run``, waits for READY
on a real ``NOTIFY_SOCKET``, and the daemon (or its worker) reports reaching the armed point
(see ``campaign_site`` and :mod:`tests.support.fault_points`), where the campaign kills the
daemon with SIGKILL: where those kills land never depends on the machine's speed. Seeded extra
cycles kill at a random moment instead (during start-up, or after READY), the next planned
point still armed; new images are dropped into the watched folder now and then. After each kill
and at the end it checks the state file (``PRAGMA integrity_check``), that the last logged
transition equals the stored state, that no annotation batch was submitted again once recorded
(nor twice by one process), that no worker outlived the daemon and that no image was lost or
added twice; a last run without kills must then finish every round.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fault_points import FaultListener

SITE_DIR = Path(__file__).parent / "campaign_site"
SUPPORT_DIR = Path(__file__).parents[1] / "support"
#: A round's fault points in the order it reaches them, and the state each leaves the round in.
ROUND_POINTS = (
    ("step:pending", "pending"), ("step:predicting", "predicting"),
    ("step:sampling", "sampling"), ("step:annotating", "annotating"),
    ("submitted", "annotating"), ("step:importing", "importing"), ("imported", "importing"),
    ("step:training", "training"), ("trained", "training"),
    ("step:evaluating", "evaluating"), ("step:completed", "completed"),
)  # fmt: skip
STATES = {"pending", "predicting", "sampling", "annotating", "importing", "training",
          "evaluating", "completed"}  # fmt: skip


def kill_plan(rounds: int, seed: int) -> list[str]:
    """Every fault point kind once, each in a seeded round, in the order the run reaches them.

    Round 0 starts at random (no prediction), so ``predicting`` is planned in a later round.
    """
    rng = random.Random(seed)
    plan = [(-1, -1, "step:none")]
    for order, (kind, _) in enumerate(ROUND_POINTS):
        first = 1 if kind == "step:predicting" else 0
        round_index = rng.randint(first, rounds)
        name, _, state = kind.partition(":")
        point = f"step:{round_index}:{state}" if state else f"{name}:{round_index}"
        plan.append((round_index, order, point))
    return [point for *_, point in sorted(plan)]


def expected_state(point: str) -> tuple[int, str] | None:
    """Where a kill at ``point`` leaves the latest round."""
    if point == "step:none":
        return None
    parts = point.split(":")
    if parts[0] == "step":
        return int(parts[1]), parts[2]
    kinds = {kind: state for kind, state in ROUND_POINTS}
    return int(parts[1]), kinds[parts[0]]


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: how it was chosen, the fault point it hit, where the round was after it."""

    cycle: int
    plan: str  # "point" (at a planned fault point), "startup" or "random" (extra kills)
    point: str | None
    state: tuple[int, str] | None
    ran_s: float


@dataclass
class Report:
    """What a campaign did and what it found wrong."""

    kills: list[Kill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # sha256 -> file name
    final_code: int | None = None
    seconds: float = 0.0

    def states(self, plan: str | None = None) -> Counter[str]:
        """How many kills (of ``plan`` only, if given) left the round in each state."""
        chosen = [k for k in self.kills if plan is None or k.plan == plan]
        return Counter(k.state[1] if k.state else "none" for k in chosen)

    def points(self) -> list[str]:
        """The planned fault points the kills hit, in order."""
        return [k.point for k in self.kills if k.plan == "point" and k.point]

    def summary(self) -> str:
        """A few lines for a person."""
        states = ", ".join(f"{s} {n}" for s, n in sorted(self.states().items()))
        planned = ", ".join(f"{s} {n}" for s, n in sorted(self.states("point").items()))
        plans = Counter(k.plan for k in self.kills)
        return (
            f"{len(self.kills)} kills in {self.seconds:.0f}s; final run exit {self.final_code}; "
            f"{len(self.dropped)} images dropped\nkilled in: {states}\n"
            f"planned kills in: {planned}\n"
            f"plans: {', '.join(f'{p} {n}' for p, n in sorted(plans.items()))}\n"
            f"problems: {len(self.problems)}" + "".join(f"\n  {p}" for p in self.problems[:20])
        )


class Campaign:
    """Runs the daemon of ``config`` again and again, killing it."""

    def __init__(
        self,
        root: Path,
        config: Path,
        *,
        dataset: Any,
        rounds: int,
        seed: int,
        drop_images: list[Path],
        drop_chance: float = 0.3,
        wait_s: float = 120.0,
    ) -> None:
        self.root, self.config, self.dataset, self.rounds = root, config, dataset, rounds
        self.rng = random.Random(seed)
        self.drop_images, self.drop_chance, self.wait_s = list(drop_images), drop_chance, wait_s
        self.state_file = root / "state" / "tiny.sqlite"
        self.ledger = root / "ledger.jsonl"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.notify_address = f"@alod-campaign-{uuid.uuid4().hex}"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind("\0" + self.notify_address[1:])
        self.report = Report()
        self.plan = kill_plan(rounds, seed)
        self.faults = FaultListener()
        self._runs: list[Path] = []
        self._hash_field_seen = False
        self._ledger_problems: set[str] = set()

    def run(self, extra_kills: int, final_timeout_s: float = 600.0) -> Report:
        """A killed run per planned point, ``extra_kills`` random ones among them, then one
        that must finish; returns the report."""
        started = time.monotonic()
        cycles = ["point"] * len(self.plan) + ["extra"] * extra_kills
        self.rng.shuffle(cycles)
        try:
            for cycle, kind in enumerate(cycles):
                self._maybe_drop()
                self._killed_run(cycle, kind)
            self._final_run(final_timeout_s)
        finally:
            self.notify.close()
            self.faults.close()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _next_point(self) -> str:
        """The first planned point not hit yet ("" when all were)."""
        hit = len(self.report.points())
        return self.plan[hit] if hit < len(self.plan) else ""

    # -- one run ---------------------------------------------------------------------------

    def _spawn(self, name: str, *extra: str, point: str = "") -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        self._runs.append(log)
        env = {**os.environ, **self.faults.env(point)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE_DIR), env.get("PYTHONPATH")]))
        env["ALOD_CAMPAIGN_LEDGER"] = str(self.ledger)
        env["ALOD_CAMPAIGN_SUPPORT"] = str(SUPPORT_DIR)
        env["NOTIFY_SOCKET"] = self.notify_address
        command = [sys.executable, "-m", "al_object_detection.cli", "run"]
        with log.open("wb") as out:
            return subprocess.Popen(
                [*command, "--config", str(self.config), *extra],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip

    def _killed_run(self, cycle: int, kind: str) -> None:
        """Run until the next planned point, or (an extra cycle) a random moment if sooner."""
        before = stored_state(self.state_file)
        point = self._next_point()
        self._drain_notify()
        process = self._spawn(f"run_{cycle:03d}", point=point)
        started = time.monotonic()
        if kind == "point" and point:
            plan = "point"
        else:  # an extra (or a planned cycle left over after an extra hit its point)
            plan = self.rng.choice(("startup", "random", "random"))
        if plan != "startup" and self._wait_ready(process):
            self._check_replay(f"cycle {cycle}", before)
        limit = {"point": self.wait_s, "startup": self.rng.uniform(0.2, 4.0),
                 "random": self.rng.uniform(0.0, 3.0)}[plan]  # fmt: skip
        try:
            reached = self.faults.wait(process, timeout_s=limit)
        except TimeoutError:
            reached = None
            if plan == "point":
                self.report.problems.append(f"cycle {cycle}: {point} not reached in {limit}s")
        workers = _children(process.pid)
        if process.poll() is not None:
            self.report.problems.append(
                f"cycle {cycle}: the daemon exited by itself ({process.returncode})"
            )
        else:
            process.send_signal(signal.SIGKILL)
            process.wait()
        ran = time.monotonic() - started
        self._reap(f"cycle {cycle}", workers)
        state = stored_state(self.state_file)
        if reached is not None:
            plan = "point"
            if state != expected_state(reached):
                self.report.problems.append(
                    f"cycle {cycle}: killed at {reached}, the round is at {state}"
                )
        elif plan == "point":
            plan = "missed"
        self.report.kills.append(Kill(cycle, plan, reached, state, ran))
        self._after_kill(f"cycle {cycle}")

    def _final_run(self, timeout_s: float) -> None:
        before = stored_state(self.state_file)
        self._drain_notify()
        process = self._spawn("final", "--until-done")
        if self._wait_ready(process):
            self._check_replay("final run", before)
        try:
            self.report.final_code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            self.report.problems.append(f"final run: not done after {timeout_s}s")
        self._after_kill("final run")
        self._final_checks()

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline and process.poll() is None:
            self.notify.settimeout(0.2)
            try:
                message = self.notify.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in message.split("\n"):
                return True
        self.report.problems.append(f"no READY from {self._runs[-1].name} (exit {process.poll()})")
        return False

    # -- checks ----------------------------------------------------------------------------

    def _check_replay(self, where: str, expected: tuple[int, str] | None) -> None:
        """Before READY the daemon logs every stored transition: the last one is the state."""
        logged = last_logged_transition(self._runs, until_ready=True)
        if logged != expected:
            self.report.problems.append(
                f"{where}: last logged transition {logged}, stored {expected}"
            )

    def _after_kill(self, where: str) -> None:
        problems = self.report.problems
        if self.state_file.exists():
            db = sqlite3.connect(self.state_file, timeout=30)
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            db.close()
            if verdict != "ok":
                problems.append(f"{where}: integrity_check says {verdict}")
        for problem in ledger_problems(read_ledger(self.ledger)):
            if problem not in self._ledger_problems:
                self._ledger_problems.add(problem)
                problems.append(f"{where}: {problem}")
        self._reap(where, worker_pids(self._runs[-1]))
        self.dataset.reload()  # the daemon changed the schema (its content hash field)
        if not self.dataset.has_sample_field("al_sha256"):
            if self._hash_field_seen:
                problems.append(f"{where}: the content hash field left the dataset's schema")
            return  # killed before it declared the field
        self._hash_field_seen = True
        duplicated = [h for h, n in self.dataset.count_values("al_sha256").items() if h and n > 1]
        if duplicated:
            problems.append(f"{where}: images added twice: {duplicated[:3]}")

    def _reap(self, where: str, pids: list[int]) -> None:
        """Wait for the daemon's workers to die with it; a survivor is a problem."""
        for pid in pids:
            if _alive(pid):
                self.report.problems.append(f"{where}: worker {pid} outlived the daemon")
                os.kill(pid, signal.SIGKILL)

    def _final_checks(self) -> None:
        problems, report = self.report.problems, self.report
        if report.final_code != 0:
            problems.append(f"final run: exit code {report.final_code}")
        stored = stored_state(self.state_file)
        logged = last_logged_transition(self._runs, until_ready=False)
        if logged != stored:
            problems.append(f"final: last logged transition {logged}, stored {stored}")
        db = sqlite3.connect(self.state_file, timeout=30)
        rounds = db.execute("SELECT round, state, picked FROM rounds ORDER BY round").fetchall()
        db.close()
        if [r[:2] for r in rounds] != [(i, "completed") for i in range(self.rounds + 1)]:
            problems.append(f"final: rounds are {[r[:2] for r in rounds]}")
        picked = [sample for r in rounds for sample in json.loads(r[2] or "[]")]
        if len(picked) != len(set(picked)):
            problems.append("final: a sample was picked twice")
        self.dataset.reload()
        labeled = self.dataset.match({"al_split": "labeled"}).values("id")
        if sorted(labeled) != sorted(picked):
            problems.append(f"final: {len(labeled)} labeled samples, {len(picked)} picked")
        recorded = [e for e in read_ledger(self.ledger) if e["event"] == "recorded"]
        ledger_rounds = sorted(_round_of(e["key"]) for e in recorded)
        if ledger_rounds != [r[0] for r in rounds]:
            problems.append(f"final: annotation batches recorded for rounds {ledger_rounds}")
        hashes = Counter(self.dataset.values("al_sha256"))
        for sha, name in report.dropped.items():
            if hashes.get(sha) != 1:
                problems.append(
                    f"final: dropped {name} is in the dataset {hashes.get(sha, 0)} times"
                )
        missing = [p for p in self.dataset.values("filepath") if not Path(p).is_file()]
        if missing:
            problems.append(f"final: {len(missing)} samples lost their file: {missing[:3]}")
        left = [p.name for p in (self.root / "drop").rglob("*") if p.is_file()]
        quarantined = list((self.root / "state" / "quarantine").glob("*"))
        if left or quarantined:
            problems.append(f"final: left in the drop folder {left}, quarantined {quarantined}")

    # -- drops -----------------------------------------------------------------------------

    def _maybe_drop(self) -> None:
        if not self.drop_images or self.rng.random() >= self.drop_chance:
            return
        source = self.drop_images.pop()
        data = source.read_bytes()
        target = self.root / "drop" / f"dropped_{len(self.report.dropped):03d}.png"
        with target.open("wb") as out:  # written in two parts, like a slow copy
            out.write(data[: len(data) // 2])
            out.flush()
            out.write(data[len(data) // 2 :])
        self.report.dropped[hashlib.sha256(data).hexdigest()] = target.name

    def _drain_notify(self) -> None:
        self.notify.setblocking(False)
        try:
            while True:
                self.notify.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.notify.setblocking(True)


def stored_state(state_file: Path) -> tuple[int, str] | None:
    """(round, state) of the latest round in the state file."""
    if not state_file.exists():
        return None
    db = sqlite3.connect(state_file, timeout=30)
    try:
        row = db.execute("SELECT round, state FROM rounds ORDER BY round DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # the daemon has not made the tables yet
        row = None
    finally:
        db.close()
    return (int(row[0]), str(row[1])) if row else None


def events(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON events of one run's log (a line cut by SIGKILL is skipped)."""
    for line in path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def last_logged_transition(runs: list[Path], *, until_ready: bool) -> tuple[int, str] | None:
    """The last ``transition`` line of all runs (of the last run: before ``ready``)."""
    last = None
    for index, path in enumerate(runs):
        for event in events(path):
            if until_ready and index == len(runs) - 1 and event.get("event") == "ready":
                return last
            if event.get("event") == "transition":
                last = (int(event["round"]), str(event["to"]))
    return last


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every ``submit`` call and every recorded batch, in order (see ``campaign_site``)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ledger_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Submits that could make a second batch: one after its batch was recorded, a second by
    the same process, or a second key for one round. (A submit repeated by a new process after
    a kill between the submit and its record is the one allowed repeat.)"""
    problems, recorded = [], set()
    calls: Counter[tuple[str, int]] = Counter()
    keys: dict[int, set[str]] = {}
    for entry in entries:
        key, pid = entry["key"], entry["pid"]
        if entry["event"] == "recorded":
            recorded.add(key)
            continue
        calls[key, pid] += 1
        keys.setdefault(_round_of(key), set()).add(key)
        if key in recorded:
            problems.append(f"{key} submitted again after it was recorded (pid {pid})")
        if calls[key, pid] == 2:
            problems.append(f"{key} submitted twice by process {pid}")
    problems += [f"round {r}: batches {sorted(k)}" for r, k in keys.items() if len(k) > 1]
    return problems


def worker_pids(log: Path) -> list[int]:
    """The workers a run started."""
    return [int(e["pid"]) for e in events(log) if e.get("event") == "worker_started"]


def _children(pid: int) -> list[int]:
    """The live children of ``pid`` (its worker)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _round_of(key: str) -> int:
    return int(key.rsplit("-r", 1)[1].split("-")[0])


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        if "\nState:\tZ" in status:
            return False
        time.sleep(0.05)
    return True
