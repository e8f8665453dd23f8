"""Adding seeds or arms to a label-efficiency results file keeps what the run does not redo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from label_efficiency import Bench

META = {"dataset": "d", "profile": {"epochs": 8}, "classes": ["a"], "splits": {"pool": 9}}


def bench(tmp_path: Path, arms: list[str], replicate: int = 0) -> Bench:
    """A bench as ``run`` leaves it just before reading earlier rows (nothing trained)."""
    made = Bench.__new__(Bench)
    made.out, made.arms, made.replicate = tmp_path / "results.json", arms, replicate
    made.meta = {**META, "arms": {a: {"name": a} for a in arms}, "predict_overrides": {}}
    return made


def test_a_run_replaces_its_own_arms_seeds_and_replicate_only(tmp_path: Path) -> None:
    rows = [
        {"arm": arm, "seed": seed, "round": 1, "replicate": rep}
        for arm in ("random", "default", "typiclust")
        for seed in (0, 5)
        for rep in (0, 1)
    ]
    arms = {a: {"name": a} for a in ("random", "default", "typiclust")}
    earlier = {**META, "arms": arms, "rows": rows, "minutes": 7.0}
    (tmp_path / "results.json").write_text(json.dumps(earlier))

    kept, minutes = bench(tmp_path, ["random", "boxes"])._earlier_rows([5])

    redone = {("random", 5, 0)}  # this run's arm, seed and replicate; "boxes" has no rows yet
    expected = [r for r in rows if (r["arm"], r["seed"], r["replicate"]) not in redone]
    assert kept == expected
    assert minutes == 7.0
