"""``alod run``: the long-running process.

Start-up: config, state dir, one-instance lock, the transitions not yet logged, an attempt a
shutdown interrupted, FiftyOne, the drop folders; then READY. The scheduler fires the jobs
(advance rounds, ingest, rescan); the main loop checks health, pings the watchdog, logs new
transitions, refreshes metrics and the status snapshot. SIGTERM/SIGINT: stop taking work,
stop the worker, record the interrupted attempt, exit 0 within ``shutdown_timeout_s``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from apscheduler.jobstores.base import JobLookupError

from al_object_detection.adapters.dataset.database import DatabaseMismatchError
from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
from al_object_detection.assembly import Parts, build_engine, open_rounds
from al_object_detection.daemon import driver as d
from al_object_detection.daemon import exitcodes
from al_object_detection.daemon.daemondb import DaemonDB
from al_object_detection.daemon.dropfolders import DropFolders
from al_object_detection.daemon.locks import InstanceLock, PoolGate, lock_holder, pool_lock
from al_object_detection.daemon.logstream import (
    LogContext,
    Sink,
    adopt_third_party,
    configure,
    engine_log,
)
from al_object_detection.daemon.metrics import StepTimes
from al_object_detection.daemon.notify import Notifier
from al_object_detection.daemon.redact import secret_values
from al_object_detection.daemon.reporting import Reporter
from al_object_detection.daemon.scheduling import build_scheduler
from al_object_detection.daemon.settings import DaemonConfig, load_config
from al_object_detection.daemon.signals import StopFlags
from al_object_detection.daemon.translog import TransitionLog
from al_object_detection.daemon.workerproc import WorkerProcess
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.ingestor import Ingestor, checker_processes
from al_object_detection.ingest.pool import PoolWriter
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.offline import activate
from al_object_detection.project import ProjectConfigError
from al_object_detection.project_files import check_dataset, check_project_files
from al_object_detection.spec import EngineSpec
from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore, StateFileError

log = structlog.get_logger("alod.daemon")

LOCK_WAIT_S = 30.0
_MAX_SILENCE_S = 300.0


def run_daemon(config_path: Path, *, until_done: bool = False) -> int:
    """Run the daemon for the project of ``config_path``; returns the exit code."""
    flags = StopFlags()
    flags.install()
    context, sink, secrets = LogContext(), Sink(fd=1), secret_values()
    configure(sink, context=context, secrets=secrets)
    try:
        config = load_config(config_path)
    except ProjectConfigError as error:
        return _config_error(error)
    context.bind(project=config.project.name)
    problem = unwritable(config)
    if problem is not None:
        log.error("state_dir_unwritable", error=problem, exit_code=exitcodes.CANTCREAT)
        return exitcodes.CANTCREAT
    activate(config.project.state_dir)
    try:
        check_project_files(config.project)  # the detector's files, before any work is taken
    except ProjectConfigError as error:
        return _config_error(error)
    sink.copy_to = config.daemon.log_file
    configure(sink, level=config.daemon.log_level, context=context, secrets=secrets)
    instance_lock = config.project.paths.instance_lock
    lock = InstanceLock(instance_lock)
    if not lock.acquire(LOCK_WAIT_S, stop=lambda: flags.requested):
        log.error("already_running", pid=lock_holder(instance_lock), exit_code=exitcodes.LOCKED)
        return exitcodes.LOCKED
    try:
        return Daemon(config, Path(config_path).absolute(), sink, context, flags).run(until_done)
    except ProjectConfigError as error:  # found while starting: the dataset
        return _config_error(error)
    except StateFileError as error:
        log.error("state_file_error", error=str(error), exit_code=exitcodes.CONFIG)
        return exitcodes.CONFIG
    except DatabaseMismatchError as error:
        log.error("database_mismatch", error=str(error), exit_code=exitcodes.CONFIG)
        return exitcodes.CONFIG
    finally:
        lock.release()
        sink.close()


def _config_error(error: ProjectConfigError) -> int:
    log.error("config_error", error=str(error), exit_code=exitcodes.CONFIG)
    return exitcodes.CONFIG


def unwritable(config: DaemonConfig) -> str | None:
    """Why a folder the daemon writes cannot be written, or None."""
    settings = config.daemon
    folders = [config.project.state_dir, settings.quarantine, settings.image_store]
    folders += [settings.metrics_file.parent, settings.log_file.parent]
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".alod-write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return f"{folder}: {error.strerror or error}"
    return None


class _ThreadStores:
    """One round-store connection per thread (SQLite connections stay in their thread)."""

    def __init__(self, path: Path) -> None:
        self.path, self._local = path, threading.local()

    def get(self) -> RoundStore:
        store: RoundStore | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = RoundStore(self.path)
        return store


class Daemon:
    """The running daemon of one project."""

    def __init__(
        self,
        config: DaemonConfig,
        config_path: Path,
        sink: Sink,
        context: LogContext,
        flags: StopFlags,
    ) -> None:
        self.config, self.config_path, self.sink, self.context = config, config_path, sink, context
        self.flags = flags
        self.notifier = Notifier()
        self.steps = StepTimes()
        project = config.project
        self.spec = EngineSpec.from_project(project)
        self.rounds = open_rounds(self.spec)
        self.daemon_db = DaemonDB(self.spec.paths.daemon_db)
        self.translog = TransitionLog(self.rounds, self.daemon_db, log, context)
        self.stores = _ThreadStores(self.spec.paths.state_file)
        self.pool_lock_file = self.spec.paths.pool_lock

    def run(self, until_done: bool) -> int:
        """Recover, start the jobs, loop until asked to stop; returns the exit code."""
        settings = self.config.daemon
        self.translog.catch_up()
        resumed = d.resume_interrupted(self.rounds)
        if resumed is not None:
            log.info("resumed_interrupted", round=resumed.round, state=resumed.state)
            self.translog.catch_up()
        self.worker = WorkerProcess(
            self.config_path,
            forward_line=self.sink.write_line,
            log=log,
            stop_timeout_s=max(1.0, settings.shutdown_timeout_s / 2),
        )
        current = self.rounds.current()
        if current is not None and current.state in m.PRESTART:
            self.worker.spawn()  # it imports the ML stack while this process opens FiftyOne
        checkers = checker_processes()
        checkers.start()  # they import while this process opens FiftyOne
        try:
            store = self._open_dataset()
            self.ingestor = Ingestor(
                settings.rules,
                ImageStore(settings.image_store),
                Quarantine(settings.quarantine),
                _pool_writer(store),
                self._publish_gate,
                checkers=checkers,
                on_published=lambda n: self._wake("advance"),
            )
        except BaseException:
            checkers.close()
            raise
        self.drop = DropFolders(settings.watch, self.ingestor, wake=lambda: self._wake("ingest"))
        self.driver = d.Driver(
            make_engine=lambda: build_engine(
                self.spec,
                Parts(store=store),
                models=False,  # the short steps: the worker loads the models
                actor="daemon",
                log=engine_log(log),
                log_error=log.error,
            ),
            make_daemon_db=lambda: DaemonDB(self.spec.paths.daemon_db),
            pool_lock=self._pool_lock,
            worker=self.worker,
            context=self.context,
            steps=self.steps,
        )
        self.reporter = Reporter(
            self.config, self.rounds, self.daemon_db, store, self.ingestor, self.worker,
            self.driver, self.steps, self.notifier,
        )  # fmt: skip
        self.scheduler = build_scheduler(self.config, self.driver, self.drop)
        self.drop.start()
        gc.freeze()  # start-up objects live as long as the daemon: full collections skip them
        self.notifier.ready(self.reporter.status_line())
        log.info("ready", watch=[str(f) for f in settings.watch], pid=os.getpid())
        self.scheduler.start()
        code = self._loop(until_done)
        self._shutdown()
        return code

    # -- the main loop --------------------------------------------------------------------

    def _loop(self, until_done: bool) -> int:
        settings = self.config.daemon
        tick = 1.0 if self.notifier.watchdog_s is None else min(1.0, self.notifier.watchdog_s / 3)
        next_metrics = 0.0
        while not self.flags.requested:
            self.flags.sleep(tick)
            healthy = self._guarded("health", self._health)
            self._guarded("refresh", self.drop.refresh)
            self._guarded("transitions", self.translog.catch_up)
            if healthy is True and self.notifier.watchdog_s is not None:
                self.notifier.watchdog()
            if time.monotonic() >= next_metrics:
                next_metrics = time.monotonic() + settings.metrics_interval_s
                self._guarded("metrics", self.reporter.publish)
            if until_done and self.driver.idle.is_set():
                if self.driver.last == d.DONE and self.ingestor.pending() == 0:
                    log.info("all_rounds_done")
                    return exitcodes.OK
                if self.driver.last == d.NEEDS_OPERATOR:
                    return exitcodes.NEEDS_OPERATOR
        return exitcodes.OK

    def _health(self) -> bool:
        problems = []
        if not self.scheduler.running:
            problems.append("scheduler stopped")
        if not self.driver.healthy(max(_MAX_SILENCE_S, 3 * self.config.project.poll_interval_s)):
            problems.append("round job silent")
        if self.config.daemon.watch and not self.drop.watcher.alive():
            problems.append("folder watcher stopped")
        self.rounds.current()  # the state file must stay readable
        if problems:
            log.warning("unhealthy", problems=problems)
        return not problems

    def _guarded(self, what: str, task: Callable[[], Any]) -> Any:
        try:
            return task()
        except Exception as error:  # the loop outlives a failed task
            log.exception("main_loop_error", task=what, error=str(error))
            return None

    # -- shutdown -------------------------------------------------------------------------

    def _shutdown(self) -> None:
        timeout = self.config.daemon.shutdown_timeout_s
        deadline = time.monotonic() + timeout
        signal_number = self.flags.received
        self.notifier.stopping("stopping")
        log.info("stopping", signal=signal_number, timeout_s=timeout)
        self.driver.stopping.set()
        self.scheduler.shutdown(wait=False)
        finished = self.driver.idle.wait(max(0.0, deadline - time.monotonic() - 1.0))
        if not finished:
            log.warning(
                "shutdown_timeout", detail="a step did not end in time; stopping the worker"
            )
            self.worker.stop(timeout_s=0.5)
        finished = self.drop.idle.wait(max(0.0, deadline - time.monotonic() - 0.5)) and finished
        self.drop.stop()
        self.ingestor.close()
        self._guarded("transitions", self.translog.catch_up)
        self._guarded("metrics", self.reporter.publish)
        log.info(
            "stopped",
            signal=signal_number,
            seconds=round(timeout - (deadline - time.monotonic()), 2),
        )
        if not finished:
            os._exit(exitcodes.OK)  # a job thread is stuck in a call that cannot be interrupted

    # -- helpers --------------------------------------------------------------------------

    def _open_dataset(self) -> FiftyOneStore:
        project = self.config.project
        fo = import_fiftyone(project.database_dir, database_uri=project.database_uri)
        created = check_dataset(project, fo.list_datasets())
        store = FiftyOneStore.open(project.dataset, create=created)
        adopt_third_party()
        if created:
            log.warning("dataset_created", dataset=project.dataset, detail="create = true")
        return store

    def _pool_lock(self) -> AbstractContextManager[None]:
        return pool_lock(self.pool_lock_file)

    def _publish_gate(self) -> AbstractContextManager[bool]:
        return PoolGate(self.pool_lock_file, self.stores.get()).publishing()

    def _wake(self, job_id: str) -> None:
        """Run the job now (also asked from the watcher's thread)."""
        with contextlib.suppress(JobLookupError):  # removed: the scheduler is shutting down
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))


def _pool_writer(store: FiftyOneStore) -> PoolWriter:
    writer = PoolWriter(store)
    hashed = writer.backfill()
    if hashed:
        log.info("hashes_backfilled", samples=hashed)
    return writer
