"""Kill -9 campaign: the real daemon SIGKILLed at a planned fault point in every state and
after every side effect (each in a seeded round), plus seeded random extra kills.

After each kill: ``PRAGMA integrity_check`` is ok, the last logged transition equals the
stored state once the next start is READY, no annotation batch was submitted again once
recorded, no worker outlived the daemon and no image was added twice; then one more run
finishes every round with nothing lost (see :mod:`tests.daemon.campaign`;
``bench/crash_campaign.py`` runs 200+ extra kills). Only the planned kills carry the "every
state was hit" assertion: where a random kill lands depends on the machine's speed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.data.shapes import make_shapes

from .campaign import STATES, Campaign, kill_plan, ledger_problems
from .tiny import load_shapes, write_project

pytestmark = [pytest.mark.slow, pytest.mark.integration]
EXTRA_KILLS, ROUNDS, SEED = 6, 2, 7


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
    report = campaign.run(EXTRA_KILLS)
    print(report.summary())
    assert report.problems == []
    assert report.final_code == 0
    assert report.points() == campaign.plan
    assert set(report.states("point")) == {"none", *STATES}, report.summary()
    assert len(report.kills) == len(campaign.plan) + EXTRA_KILLS
    assert len(report.dropped) > 0


def test_the_plan_has_every_state_and_side_effect_in_the_order_a_run_reaches_them() -> None:
    plan = kill_plan(rounds=ROUNDS, seed=SEED)
    assert plan[0] == "step:none"
    kinds = [p.split(":")[2] if p.startswith("step:") else p.split(":")[0] for p in plan[1:]]
    assert sorted(kinds) == sorted([*STATES, "submitted", "imported", "trained"])
    rounds = [int(p.split(":")[1]) for p in plan[1:]]
    assert rounds == sorted(rounds)
    assert "step:0:predicting" not in plan  # round 0 starts at random
    assert kill_plan(rounds=ROUNDS, seed=SEED) == plan != kill_plan(rounds=ROUNDS, seed=SEED + 1)


def test_the_ledger_check_allows_only_the_repeat_a_kill_before_the_record_explains() -> None:
    def submit(key: str, pid: int, event: str = "submit") -> dict[str, object]:
        return {"event": event, "key": key, "pid": pid}

    killed_before_record = [submit("p-r0", 1), submit("p-r0", 2), submit("p-r0", 2, "recorded")]
    assert ledger_problems(killed_before_record) == []
    again = [*killed_before_record, submit("p-r0", 3)]
    assert ledger_problems(again) == ["p-r0 submitted again after it was recorded (pid 3)"]
    twice = [submit("p-r1", 4), submit("p-r1", 4)]
    assert ledger_problems(twice) == ["p-r1 submitted twice by process 4"]
    assert ledger_problems([submit("p-r1", 5), submit("p-r1-b", 6)]) == [
        "round 1: batches ['p-r1', 'p-r1-b']"
    ]
