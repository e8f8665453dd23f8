"""The budget-aware default: typicality at the cold start, uncertainty + diversity later."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from al_object_detection.strategies import (
    BudgetAwareSampler,
    Pool,
    RandomSampler,
    Sampler,
    TwoStageSampler,
    TypiClustSampler,
    build_sampler,
)
from al_object_detection.strategies.budget_aware import labeled_examples, typical_share

from .helpers import random_pool


@pytest.mark.parametrize(
    ("labeled", "classes", "share"),
    [(0, 5, 1.0), (50, 5, 1.0), (75, 5, 0.5), (100, 5, 0.0), (400, 5, 0.0), (15, 1, 0.5)],
)
def test_typical_share_by_labeled_examples_per_class(
    labeled: int, classes: int, share: float
) -> None:
    assert typical_share(labeled, classes, 10.0) == pytest.approx(share)


def test_cold_start_picks_what_typiclust_picks() -> None:
    pool = replace(random_pool(1, n=40, n_labeled=2), labeled_class_counts=np.array([3, 0, 2, 1]))
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
