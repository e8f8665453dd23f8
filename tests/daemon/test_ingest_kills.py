"""Kill -9 in ingestion's commit window, at fault points: nothing lost, nothing added twice,
no false duplicate (see :mod:`tests.daemon.ingest_window`; ``bench/crash_campaign.py`` runs
more)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.ingest.faults import POOL_ADDED, STORE_COMMITTED, STORE_MOVED

from .ingest_window import Cycle, IngestWindowCampaign

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CYCLES = [
    # the first two while the drop folder holds copies alone: each kill lands on a copy
    Cycle(STORE_COMMITTED, 7, 20, "shared"),  # stored; its drop name and partial copy still there
    Cycle(STORE_MOVED, 5, 20, "shared"),  # stored, drop name gone; its partial copy still there
    # the reported case: 1,500 files, killed after 40 went into the image store
    Cycle(STORE_COMMITTED, 40, 1500, "moved"),
    Cycle(STORE_MOVED, 5, 20, "mixed"),  # moved, not yet in the pool
    Cycle(POOL_ADDED, 1, 20, "mixed"),  # in the pool, the batch not yet forgotten
]


def test_kills_between_image_store_and_pool_lose_and_repeat_nothing(
    tmp_path: Path, fresh_dataset: str, fo: Any
) -> None:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

    store = FiftyOneStore.open(fresh_dataset, create=True)
    report = IngestWindowCampaign(tmp_path, store.dataset).run(CYCLES)
    print(report.summary())
    assert report.problems == []
    assert report.kills == CYCLES
    assert report.final_code == 0
    assert (len(report.dropped), report.quarantined) == (1580, 0)
