"""The oracle arms pick by the pool's true boxes: the ceilings the strategies are read against."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from label_efficiency import Bench, Split


def bench(classes_per_image: list[tuple[str, ...]], budget: int) -> Bench:
    """A bench whose pool holds one image per entry, with those true boxes (nothing trained)."""
    made = Bench.__new__(Bench)
    made.classes = ["a", "b", "c"]
    made.profile = {"budget": budget}
    made.pool = [Split(Path(f"{i}.png"), len(c), c) for i, c in enumerate(classes_per_image)]
    return made


def test_oracle_balance_spreads_its_picks_over_the_classes_the_labels_lack() -> None:
    pool = [("a", "a", "a"), ("a",), ("b", "b"), ("b", "b"), ("c",), ("a", "a", "a", "a")]
    made = bench(pool, budget=2)
    labeled = [0, 1]  # four boxes of a, none of b or c
    picks = made._pick_by_truth("oracle_balance", [2, 3, 4, 5], labeled, np.random.default_rng(0))
    # by the labels alone the two b images weigh most (2 against c's 1 and the a image's 0.8);
    # once one of them is picked, b is no longer missing and c weighs more than a second one
    assert [made.pool[i].classes for i in picks] == [("b", "b"), ("c",)]


def test_oracle_boxes_takes_the_images_with_the_most_true_boxes() -> None:
    made = bench([("a",), ("a", "b", "b"), ("c",), ("a", "a", "a", "a")], budget=2)
    picks = made._pick_by_truth("oracle_boxes", [0, 1, 2, 3], [], np.random.default_rng(0))
    assert picks == [3, 1]
