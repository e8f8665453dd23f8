"""The budget-aware default: cold-start picks while labels are few, then uncertainty."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from al_object_detection.strategies import (
    BudgetAwareSampler,
    ClassBalanceSampler,
    Pool,
    RandomSampler,
    Sampler,
    TwoStageSampler,
    TypiClustSampler,
    build_sampler,
)
from al_object_detection.strategies.budget_aware import (
    cold_start_share,
    labeled_examples,
    long_tailed,
)

from .helpers import random_pool


@pytest.mark.parametrize(
    ("labeled", "classes", "share"),
    [(0, 5, 1.0), (50, 5, 1.0), (75, 5, 0.5), (100, 5, 0.0), (400, 5, 0.0), (15, 1, 0.5)],
)
def test_cold_start_share_by_labeled_examples_per_class(
    labeled: int, classes: int, share: float
) -> None:
    assert cold_start_share(labeled, classes, 10.0) == pytest.approx(share)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [([40, 0, 2, 1], True), ([20, 8, 2, 2], True), ([3, 0, 2, 1], False), ([4, 6, 3, 5], False),
     ([0, 0, 0, 0], False), ([30], False)],
)  # fmt: skip
def test_long_tailed_when_a_chi_square_test_rejects_even_classes(
    counts: list[int], expected: bool
) -> None:
    assert long_tailed(np.array(counts, float)) is expected


def test_cold_start_on_long_tailed_labels_picks_the_most_rare_class_evidence() -> None:
    counts = np.array([40.0, 0, 2, 1])
    pool = replace(random_pool(1, n=40, n_labeled=2), labeled_class_counts=counts)
    rng = np.random.default_rng
    cold = BudgetAwareSampler().select(pool, 5, rng=rng(7))
    rare = ClassBalanceSampler(aggregation="sum").select(pool, 5, rng=rng(7))
    assert cold.tolist() == rare.tolist()
    assert cold.tolist() != TypiClustSampler().select(pool, 5, rng=rng(7)).tolist()


@pytest.mark.parametrize(
    "counts", [None, [3], [4, 6, 3, 5]], ids=["no class counts", "one class", "even classes"]
)
def test_cold_start_without_a_long_tail_picks_what_typiclust_picks(
    counts: list[int] | None,
) -> None:
    n_classes = 1 if counts == [3] else 4
    pool = replace(
        random_pool(1, n=40, n_classes=n_classes, n_labeled=2),
        labeled_class_counts=None if counts is None else np.array(counts, float),
    )
    rng = np.random.default_rng
    cold = BudgetAwareSampler().select(pool, 5, rng=rng(7))
    assert cold.tolist() == TypiClustSampler().select(pool, 5, rng=rng(7)).tolist()


def test_a_large_labeled_set_shortlists_by_class_aware_uncertainty() -> None:
    pool = random_pool(2, n=60, n_classes=2, n_labeled=6)
    sampler = BudgetAwareSampler(examples_per_class=1.0)
    plan = sampler.plan(pool)
    assert plan.weights == (0.0, 1.0)
    assert isinstance(plan.parts[1], TwoStageSampler)
    sel = sampler.choose(pool, 4, rng=np.random.default_rng(0))
    assert len(sel) == 4
    assert all("shortlisted" in r for r in sel.reasons)


def test_labeled_boxes_count_as_examples_and_images_only_without_box_counts() -> None:
    """16 images of one dense class are ~200 examples: past the cold start; without box
    counts the same 16 images are 16 examples: the cold start still."""
    dense = replace(random_pool(3, n=40, n_classes=1, n_labeled=16), labeled_class_counts=[200])
    assert BudgetAwareSampler().plan(dense).weights == (0.0, 1.0)
    assert labeled_examples(dense) == 200
    unknown = replace(dense, labeled_class_counts=None)
    assert labeled_examples(unknown) == 16
    assert BudgetAwareSampler().plan(unknown).weights == pytest.approx((0.4, 0.6))


def test_only_random_needs_no_predictions() -> None:
    assert not RandomSampler().needs_predictions
    assert not Sampler([RandomSampler()]).needs_predictions
    assert Sampler([RandomSampler(), TypiClustSampler()], weights=[1, 0]).needs_predictions is False
    assert build_sampler("budget_aware").needs_predictions
    assert TwoStageSampler(first=RandomSampler(), second=RandomSampler()).needs_predictions is False


def test_needs_embeddings() -> None:
    bare = Pool.from_lists(["a"], [np.zeros((0, 1))], n_classes=1)
    with pytest.raises(ValueError, match="needs image embeddings"):
        BudgetAwareSampler().choose(bare, 1, rng=np.random.default_rng(0))
