"""The label-efficiency benchmark's statistics: pairing by seed, replicates averaged per seed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from label_stats import format_table, labels_to_reach, paired_interval, summary


def row(arm: str, seed: int, rnd: int, score: float, replicate: int = 0) -> dict[str, object]:
    return {
        "arm": arm,
        "seed": seed,
        "round": rnd,
        "replicate": replicate,
        "labeled_images": 16 * (rnd + 1),
        "labeled_boxes": 40 * (rnd + 1),
        "map50": score,
        "map50_95": score,
        "per_class": {"Bag": {"ap50": score, "ap50_95": score / 2}},
    }


def test_differences_are_paired_by_seed() -> None:
    rows = [row("random", s, 1, 0.1 * s) for s in range(1, 4)]
    rows += [row("default", s, 1, 0.1 * s + 0.02) for s in range(1, 4)]
    vs = summary(rows, ["Bag"])["default"][0]["vs_random_map50_95"]
    assert vs["n"] == 3
    assert vs["mean"] == pytest.approx(0.02)
    assert vs["low"] == pytest.approx(0.02)
    assert vs["high"] == pytest.approx(0.02)


def test_a_seeds_replicates_are_averaged_and_paired_run_by_run() -> None:
    rows = [row("random", s, 1, 0.20, replicate=0) for s in range(3)]
    rows += [row("random", s, 1, 0.24, replicate=1) for s in range(2)]
    rows += [row("default", s, 1, 0.30, replicate=0) for s in range(3)]
    rows += [row("default", s, 1, 0.10, replicate=1) for s in range(2)]  # seed 2: one run
    stats = summary(rows, ["Bag"])["default"][0]
    assert (stats["seeds"], stats["runs"]) == (3, 5)
    assert stats["map50_95"] == pytest.approx((0.2 + 0.2 + 0.3) / 3)
    # seeds 0-1: (0.30 - 0.20 + 0.10 - 0.24) / 2 = -0.02; seed 2: 0.30 - 0.20
    assert stats["vs_random_map50_95"]["mean"] == pytest.approx((-0.02 - 0.02 + 0.1) / 3)
    assert stats["rare_ap50_95"]["Bag"] == pytest.approx((3 * 0.15 + 2 * 0.05) / 5)
    assert "3/5" in format_table(summary(rows, ["Bag"]), ["Bag"])


def test_a_run_without_its_random_run_pairs_with_randoms_seed_mean() -> None:
    rows = [row("random", 0, 1, 0.20, replicate=0), row("random", 0, 1, 0.22, replicate=1)]
    rows += [row("random", 1, 1, 0.30, replicate=0), row("random", 1, 1, 0.30, replicate=1)]
    rows += [row("rare", s, 1, 0.25, replicate=2) for s in range(2)]
    vs = summary(rows, [])["rare"][0]["vs_random_map50_95"]
    assert vs["mean"] == pytest.approx((0.04 - 0.05) / 2)


def test_rows_without_a_replicate_field_are_run_0() -> None:
    rows = [row("random", s, 1, 0.20) for s in range(2)]
    rows += [row("random", s, 1, 0.30, replicate=1) for s in range(2)]
    rows += [row("default", s, 1, 0.25) for s in range(2)]
    for r in rows[-2:]:  # written before replicates existed
        del r["replicate"]
    stats = summary(rows, [])
    assert stats["default"][0]["runs"] == 2
    # paired with random's explicit run 0 (0.20), not with random's seed mean (0.25)
    assert stats["default"][0]["vs_random_map50_95"]["mean"] == pytest.approx(0.05)


def test_the_interval_covers_the_mean_and_widens_with_spread() -> None:
    mean, low, high = paired_interval([0.05, -0.03, 0.04, 0.01, -0.02])
    assert low < mean < high
    _, tight_low, tight_high = paired_interval([0.01, 0.011, 0.009, 0.01, 0.01])
    assert tight_high - tight_low < high - low


def test_labels_to_reach_interpolates_and_reports_a_miss() -> None:
    curve = [(16, 0.05), (32, 0.10), (48, 0.20)]
    assert labels_to_reach(curve, 0.15) == pytest.approx(40.0)
    assert labels_to_reach(curve, 0.05) == 16.0
    assert labels_to_reach(curve, 0.3) is None
