"""``alod ingest PATH...``: what the drop folders do, once, for the given files and folders.

The paths are taken as complete (no settle time, no grace for unfinished files). Accepted
images are added to the pool under the same lock as the daemon's, so a running daemon and
this command never add the same image twice; while a round is between predicting and
sampling they stay in the image store and join the pool at the next chance.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
from al_object_detection.daemon.locks import PoolGate
from al_object_detection.daemon.settings import DaemonConfig
from al_object_detection.ingest.image_store import ImageStore
from al_object_detection.ingest.ingestor import Ingestor
from al_object_detection.ingest.pool import PoolWriter
from al_object_detection.ingest.quarantine import Quarantine
from al_object_detection.offline import activate
from al_object_detection.project_files import check_dataset
from al_object_detection.states.store import RoundStore

_MAX_PASSES = 5
_PASS_PAUSE_S = 0.6


def ingest_once(config: DaemonConfig, paths: list[Path], *, keep: bool = False) -> dict[str, Any]:
    """Ingest ``paths`` (files or folders); returns what happened."""
    project, settings = config.project, config.daemon
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    activate(project.state_dir)
    import_fiftyone(project.database_dir, database_uri=project.database_uri)
    create = check_dataset(project, import_fiftyone().list_datasets())  # a typo: an error
    store = FiftyOneStore.open(project.dataset, create=create)
    rounds = RoundStore(project.paths.state_file)
    gate = PoolGate(project.paths.pool_lock, rounds)
    rules = dataclasses.replace(settings.rules, settle_s=0.0, grace_s=0.0)
    ingestor = Ingestor(
        rules,
        ImageStore(settings.image_store),
        Quarantine(settings.quarantine),
        PoolWriter(store),
        gate.publishing,
        keep=keep,
    )
    try:
        for path in paths:
            absolute = path.absolute()
            if absolute.is_dir():
                ingestor.scan(absolute, absolute)
            else:
                ingestor.offer(absolute, absolute.parent, complete=True)
        for _ in range(_MAX_PASSES):
            ingestor.drain()
            if not len(ingestor.candidates):
                break
            time.sleep(_PASS_PAUSE_S)  # a file that changed while it was read: look again
    finally:
        ingestor.close()
        rounds.close()
    stats = ingestor.stats
    return {
        "accepted": stats.accepted,
        "published": stats.published,
        "waiting": ingestor.pending(),
        "rejected": dict(stats.rejected),
        "quarantine": str(settings.quarantine),
    }
