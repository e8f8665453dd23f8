"""The scheduler: when each job runs. The round store, never the scheduler, holds the state.

Every job is coalesced, runs one instance at a time and is never dropped for being late
(``misfire_grace_time=None``). A run skipped because the previous one still works is
logged (once per streak), as is every error and miss. Round work and file work each have a
single thread, so each job keeps its SQLite connection in one thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from al_object_detection.daemon.driver import Driver
from al_object_detection.daemon.dropfolders import DropFolders
from al_object_detection.daemon.settings import DaemonConfig

log = structlog.get_logger("alod.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
_FILES_TICK_S = 0.5
_MIN_POLL_S = 0.2


def build_scheduler(config: DaemonConfig, driver: Driver, drop: DropFolders) -> BackgroundScheduler:
    """A scheduler (not started) with the advance, ingest and rescan jobs."""
    scheduler = BackgroundScheduler(
        executors={"rounds": ThreadPoolExecutor(1), "files": ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
        timezone=UTC,
    )
    now = datetime.now(UTC)
    poll = max(_MIN_POLL_S, config.project.poll_interval_s)
    rescan = config.daemon.rescan_interval_s
    scheduler.add_job(
        driver.advance, "interval", seconds=poll, id="advance", executor="rounds", next_run_time=now
    )
    scheduler.add_job(
        drop.drain,
        "interval",
        seconds=_FILES_TICK_S,
        id="ingest",
        executor="files",
        next_run_time=now,
    )
    scheduler.add_job(
        drop.periodic,
        "interval",
        seconds=rescan,
        id="rescan",
        executor="files",
        next_run_time=now,  # at start-up: what arrived while the daemon was down
    )
    scheduler.add_listener(
        _JobEvents(),
        EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED,
    )
    return scheduler


class _JobEvents:
    """Logs what the scheduler did not run as planned."""

    def __init__(self) -> None:
        self._skipping: set[str] = set()

    def __call__(self, event: Any) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            self._skipping.discard(event.job_id)
        elif event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            log.error(
                "job_error",
                job=event.job_id,
                error=repr(event.exception),
                traceback=event.traceback,
            )
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job_missed", job=event.job_id, due=str(event.scheduled_run_time))
        elif event.code == EVENT_JOB_MAX_INSTANCES and event.job_id not in self._skipping:
            self._skipping.add(event.job_id)
            log.info("job_still_running", job=event.job_id, detail="runs coalesced until it ends")
