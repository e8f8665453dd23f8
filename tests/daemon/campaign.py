"""The kill campaign: the real daemon on a tiny project, SIGKILLed at seeded random moments.

Each cycle starts ``alod run``, waits for READY on a real ``NOTIFY_SOCKET`` (or not: some
kills land during start-up), then kills the daemon with SIGKILL at a random moment, or a
random moment after the round's next transition (chosen so that every state gets hit);
new images are dropped into the watched folder now and then. After each kill and at the end
it checks the state file (``PRAGMA integrity_check``), that the last logged transition equals
the stored state, that no annotation batch was created twice, that no worker outlived the
daemon and that no image was lost or added twice; a last run without kills must then finish
every round.
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

SITE_DIR = Path(__file__).parent / "campaign_site"
#: When a cycle kills: during start-up, a random moment after READY, or just after the next
#: transition (so short states get hit too).
PLANS, PLAN_WEIGHTS = ("startup", "now", "next"), (0.2, 0.4, 0.4)
SHORT_STATES = ("pending", "annotating", "completed")
NEXT_STATE = {
    "pending": "predicting", "predicting": "sampling", "sampling": "annotating",
    "annotating": "importing", "importing": "training", "training": "evaluating",
    "evaluating": "completed", "completed": "pending",
}  # fmt: skip
STEP_S = 0.15  # how long the campaign's short steps take (see campaign_site)


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: when (the plan) and where the round was right after it."""

    cycle: int
    plan: str
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

    def states(self) -> Counter[str]:
        """How many kills left the round in each state."""
        return Counter(k.state[1] if k.state else "none" for k in self.kills)

    def summary(self) -> str:
        """A few lines for a person."""
        states = ", ".join(f"{s} {n}" for s, n in sorted(self.states().items()))
        plans = Counter(k.plan for k in self.kills)
        return (
            f"{len(self.kills)} kills in {self.seconds:.0f}s; final run exit {self.final_code}; "
            f"{len(self.dropped)} images dropped\nkilled in: {states}\n"
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
        self._runs: list[Path] = []
        self._hash_field_seen = False

    def run(self, kills: int, final_timeout_s: float = 600.0) -> Report:
        """``kills`` killed runs, then one that must finish; returns the report."""
        started = time.monotonic()
        try:
            for cycle in range(kills):
                self._maybe_drop()
                self._killed_run(cycle, self._plan())
            self._final_run(final_timeout_s)
        finally:
            self.notify.close()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _plan(self) -> str:
        """Kill in a state not hit yet when one is at hand, else a seeded random plan."""
        state = stored_state(self.state_file)
        hit = set(self.report.states())
        if state is not None and self.rng.random() < 0.8:
            if state[1] not in hit:
                return "now"
            if NEXT_STATE.get(state[1]) not in hit:
                return "next"
        return self.rng.choices(PLANS, PLAN_WEIGHTS)[0]

    # -- one run ---------------------------------------------------------------------------

    def _spawn(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        self._runs.append(log)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE_DIR), env.get("PYTHONPATH")]))
        env["ALOD_CAMPAIGN_LEDGER"] = str(self.ledger)
        env["ALOD_CAMPAIGN_STEP_S"] = str(STEP_S)
        env["NOTIFY_SOCKET"] = self.notify_address
        command = [sys.executable, "-m", "al_object_detection.daemon.cli", "run"]
        with log.open("wb") as out:
            return subprocess.Popen(
                [*command, "--config", str(self.config), *extra],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip

    def _killed_run(self, cycle: int, plan: str) -> None:
        before = stored_state(self.state_file)
        self._drain_notify()
        process = self._spawn(f"run_{cycle:03d}")
        started = time.monotonic()
        if plan == "startup":
            _sleep_unless_exit(process, self.rng.uniform(0.2, 4.0))
        elif self._wait_ready(process):
            self._check_replay(f"cycle {cycle}", before)
            if plan == "next":
                self._next_transition(process)
            else:
                short = before is not None and before[1] in SHORT_STATES
                _sleep_unless_exit(process, self.rng.uniform(0.0, 0.1 if short else 2.0))
        workers = _children(process.pid)
        if process.poll() is not None:
            self.report.problems.append(
                f"cycle {cycle}: the daemon exited by itself ({process.returncode})"
            )
        else:
            process.send_signal(signal.SIGKILL)
            process.wait()
        ran = time.monotonic() - started
        self._reap(f"cycle {cycle}", workers)  # its last commit may land while SIGKILL travels
        self.report.kills.append(Kill(cycle, plan, stored_state(self.state_file), ran))
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

    def _next_transition(self, process: subprocess.Popen[bytes]) -> None:
        """Wait for the round's next state, then a random moment within it."""
        count = transition_count(self.state_file)
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline and process.poll() is None:
            if stored_state(self.state_file) == (self.rounds, "completed"):
                break  # nothing comes next: every round is done
            if transition_count(self.state_file) > count:
                state = stored_state(self.state_file)
                window = 0.1 if state is not None and state[1] in SHORT_STATES else 1.5
                _sleep_unless_exit(process, self.rng.uniform(0.0, window))
                return
            time.sleep(0.005)
        _sleep_unless_exit(process, self.rng.uniform(0.0, 1.0))

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
        keys = [entry["key"] for entry in read_ledger(self.ledger)]
        if len(keys) != len(set(keys)) or len(keys) != len({_round_of(k) for k in keys}):
            problems.append(f"{where}: an annotation batch was requested twice: {keys}")
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
        ledger_rounds = sorted(_round_of(e["key"]) for e in read_ledger(self.ledger))
        if ledger_rounds != [r[0] for r in rounds]:
            problems.append(f"final: annotation batches for rounds {ledger_rounds}")
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


def transition_count(state_file: Path) -> int:
    """How many transitions the state file holds."""
    if not state_file.exists():
        return 0
    db = sqlite3.connect(state_file, timeout=30)
    try:
        return int(db.execute("SELECT COUNT(*) FROM transitions").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


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
    """The batches the oracle created."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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


def _sleep_unless_exit(process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
