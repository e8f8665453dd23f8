"""Kill -9 campaign: the real daemon SIGKILLed at 30+ seeded random moments, in every state.

After each kill: ``PRAGMA integrity_check`` is ok, the last logged transition equals the
stored state once the next start is READY, no annotation batch was created twice, no worker
outlived the daemon and no image was added twice; then one more run finishes every round
with nothing lost (see :mod:`tests.daemon.campaign`; ``bench/crash_campaign.py`` runs 200+).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.data.shapes import make_shapes

from .campaign import Campaign
from .tiny import load_shapes, write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]
KILLS, ROUNDS, SEED = 30, 2, 7


def test_kill_9_campaign_loses_and_repeats_nothing(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    store = load_shapes(fresh_dataset, shapes_dir)
    extra = make_shapes(tmp_path / "extra", n_images=12, image_size=64, seed=SEED)
    config = write_project(tmp_path, fresh_dataset, rounds=ROUNDS, budget=2, bootstrap_size=4)
    (tmp_path / "drop").mkdir()
    campaign = Campaign(
        tmp_path, config, dataset=store.dataset, rounds=ROUNDS, seed=SEED,
        drop_images=[image.filepath for image in extra.images],
    )  # fmt: skip
    report = campaign.run(KILLS)
    print(report.summary())
    assert report.problems == []
    assert report.final_code == 0
    assert len(report.kills) >= KILLS
    assert len(report.dropped) > 0
    states = {"pending", "predicting", "sampling", "annotating", "importing", "training",
              "evaluating", "completed"}  # fmt: skip
    assert set(report.states()) - {"none"} == states, report.summary()
