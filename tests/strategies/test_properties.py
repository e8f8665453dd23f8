"""Invariants every strategy keeps, checked on generated pools."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from al_object_detection.strategies import (
    BaseSampler,
    BudgetAwareSampler,
    ClassAwareSampler,
    ClassBalanceSampler,
    DiversitySampler,
    Pool,
    RandomSampler,
    Sampler,
    TwoStageSampler,
    TypiClustSampler,
    UncertaintySampler,
)

from .helpers import random_pool

DETERMINISTIC: list[BaseSampler] = [
    UncertaintySampler(),
    UncertaintySampler(method="least_confidence", aggregation="sum"),
    UncertaintySampler(method="binary_entropy", aggregation="top_k_mean", top_k=2),
    ClassBalanceSampler(aggregation="mean"),
    ClassAwareSampler(),
    ClassAwareSampler(aggregation="sum", alpha=0.0),
    DiversitySampler(),
    TwoStageSampler(candidates_factor=2),
    Sampler([UncertaintySampler(), DiversitySampler()], weights=[2, 1]),
]
SEEDED: list[BaseSampler] = [
    RandomSampler(),
    DiversitySampler(method="kmeans++"),
    Sampler([UncertaintySampler(), RandomSampler()]),
    TwoStageSampler(first=RandomSampler(), second=DiversitySampler(method="kmeans++")),
    TypiClustSampler(k_neighbors=3),
    BudgetAwareSampler(),
    BudgetAwareSampler(examples_per_class=0.5),
]
pools = st.builds(
    random_pool,
    seed=st.integers(0, 2**16),
    n=st.integers(0, 40),
    n_labeled=st.integers(0, 6),
    max_boxes=st.integers(0, 4),
)
samplers = st.sampled_from(DETERMINISTIC + SEEDED)
budgets = st.integers(0, 50)
seeds = st.integers(0, 2**16)
taken_fraction = st.floats(0, 0.5)


@settings(max_examples=60, deadline=None)
@given(pools, samplers, budgets, seeds, taken_fraction)
def test_exact_budget_no_repeats_and_taken_never_chosen(
    pool: Pool, sampler: BaseSampler, budget: int, seed: int, fraction: float
) -> None:
    taken = np.arange(int(pool.n_images * fraction))
    sel = sampler.choose(pool, budget, rng=np.random.default_rng(seed), taken=taken)
    picks = sel.positions.tolist()
    assert len(picks) == min(budget, pool.n_images - len(taken))
    assert len(set(picks)) == len(picks)
    assert all(len(taken) <= p < pool.n_images for p in picks)


@settings(max_examples=30, deadline=None)
@given(pools, samplers, budgets, seeds)
def test_same_seed_same_picks(pool: Pool, sampler: BaseSampler, budget: int, seed: int) -> None:
    a = sampler.select(pool, budget, rng=np.random.default_rng(seed))
    b = sampler.select(pool, budget, rng=np.random.default_rng(seed))
    assert a.tolist() == b.tolist()


@settings(max_examples=30, deadline=None)
@given(pools, st.sampled_from(DETERMINISTIC), budgets, seeds)
def test_reordering_the_pool_does_not_change_what_is_picked(
    pool: Pool, sampler: BaseSampler, budget: int, seed: int
) -> None:
    perm = np.random.default_rng(seed).permutation(pool.n_images)
    shuffled = pool.subset(perm)
    original = pool.sample_ids[sampler.select(pool, budget, rng=np.random.default_rng(0))]
    again = shuffled.sample_ids[sampler.select(shuffled, budget, rng=np.random.default_rng(0))]
    assert sorted(original.tolist()) == sorted(again.tolist())


@settings(max_examples=30, deadline=None)
@given(
    pools,
    st.sampled_from([DiversitySampler(), DiversitySampler(method="kmeans++")]),
    st.integers(1, 40),
    seeds,
)
def test_copies_of_labeled_images_are_picked_last(
    pool: Pool, sampler: BaseSampler, budget: int, seed: int
) -> None:
    assert pool.embeddings is not None
    copies = np.arange(0, pool.n_images, 3)  # every third image duplicates a labeled one
    emb = pool.embeddings.copy()
    labeled = emb[copies] + 0  # the labeled set holds exactly those images
    emb[copies] = labeled
    dup = Pool(pool.sample_ids, pool.box_scores, pool.box_offsets, emb, labeled)
    picks = sampler.select(dup, budget, rng=np.random.default_rng(seed)).tolist()
    fresh = pool.n_images - len(copies)
    assert not set(picks[:fresh]) & set(copies.tolist())
