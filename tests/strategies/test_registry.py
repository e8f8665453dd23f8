"""Building strategies from config specs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from al_object_detection.strategies import (
    BudgetAwareSampler,
    ClassAwareSampler,
    ClassBalanceSampler,
    DiversitySampler,
    Pool,
    RandomSampler,
    Sampler,
    StrategyConfigError,
    TwoStageSampler,
    TypiClustSampler,
    UncertaintySampler,
    available,
    build_sampler,
    sampler_spec,
)
from al_object_detection.strategies.base import BaseSampler


def test_plain_names_and_tables() -> None:
    assert build_sampler("random") == RandomSampler()
    assert build_sampler({"name": "uncertainty", "method": "margin", "top_k": 5}) == (
        UncertaintySampler(method="margin", top_k=5)
    )
    assert build_sampler({"name": "diversity", "method": "kmeans++"}) == DiversitySampler(
        method="kmeans++"
    )
    assert build_sampler({"name": "class_balance", "smoothing": 2}) == ClassBalanceSampler(
        smoothing=2.0
    )


def test_hybrid_spec() -> None:
    spec = {
        "name": "hybrid",
        "parts": [
            {"name": "uncertainty", "weight": 0.7, "method": "entropy"},
            {"name": "random", "weight": 0.3},
            "diversity",
        ],
    }
    sampler = build_sampler(spec)
    assert isinstance(sampler, Sampler)
    assert sampler.parts == (UncertaintySampler(), RandomSampler(), DiversitySampler())
    assert sampler.weights == (0.7, 0.3, 1.0)


def test_two_stage_spec() -> None:
    assert build_sampler("two_stage") == TwoStageSampler()
    built = build_sampler(
        {
            "name": "two_stage",
            "first": {"name": "uncertainty", "method": "margin"},
            "second": "diversity",
            "candidates_factor": 5,
        }
    )
    assert built == TwoStageSampler(
        first=UncertaintySampler(method="margin"), candidates_factor=5.0
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "uncertanty"}, r"strategy\.name: unknown strategy 'uncertanty'; available: "),
        ({"method": "entropy"}, "missing 'name'"),
        (3, "expected a strategy name or table"),
        ({"name": "uncertainty", "methd": "x"}, "unknown parameter 'methd'.*allowed: method"),
        ({"name": "uncertainty", "method": "entopy"}, r"strategy\.method: 'entopy' is not one"),
        ({"name": "uncertainty", "top_k": "3"}, r"strategy\.top_k: expected int, got str"),
        ({"name": "uncertainty", "top_k": True}, "expected int, got bool"),
        ({"name": "uncertainty", "top_k": 0}, r"strategy \(uncertainty\): top_k must be >= 1"),
        ({"name": "random", "seed": 1}, "unknown parameter 'seed' for 'random'; allowed: none"),
        ({"name": "hybrid"}, r"strategy\.parts: expected a non-empty list"),
        ({"name": "hybrid", "parts": ["random"], "x": 1}, "unknown parameter 'x' for 'hybrid'"),
        ({"name": "hybrid", "parts": [{"name": "random", "weight": -1}]}, r"parts\[0\]\.weight"),
        ({"name": "hybrid", "parts": [{"name": "random", "weight": 0}]}, "not all 0"),
        ({"name": "hybrid", "parts": [5]}, r"parts\[0\]: expected a strategy name"),
        ({"name": "hybrid", "parts": [{"name": "nope"}]}, r"parts\[0\]\.name: unknown"),
        ({"name": "two_stage", "first": {"name": "x"}}, r"strategy\.first\.name: unknown"),
        ({"name": "two_stage", "candidates_factor": 0.1}, "candidates_factor must be >= 1"),
        (
            {"name": "uncertainty", "empty_score": "guess"},
            r"strategy\.empty_score: expected float or one of 'evidence', got 'guess'",
        ),
        ({"name": "class_aware", "alpha": -1}, r"class_aware\): alpha must be"),
        ({"name": "typiclust", "k_neighbors": 0}, "k_neighbors must be >= 1"),
        ({"name": "budget_aware", "examples_per_class": -2}, "examples_per_class must be >= 0"),
    ],
)
def test_errors_name_the_bad_key_and_what_is_allowed(spec: Any, message: str) -> None:
    with pytest.raises(StrategyConfigError, match=message):
        build_sampler(spec)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(StrategyConfigError, ValueError)


def test_available_lists_names_and_parameters() -> None:
    names = available()
    assert set(names) == {
        "uncertainty",
        "class_aware",
        "typiclust",
        "budget_aware",
        "diversity",
        "class_balance",
        "objects",
        "random",
        "hybrid",
        "two_stage",
    }
    assert "'entropy'" in names["uncertainty"]["method"]
    assert names["uncertainty"]["empty_score"] == "float or one of 'evidence' (default 'evidence')"
    assert names["budget_aware"]["examples_per_class"] == "float (default 10.0)"
    assert names["two_stage"]["first"] == "strategy spec (default 'uncertainty')"
    assert names["random"] == {}


@pytest.mark.parametrize(
    "sampler",
    [
        UncertaintySampler(method="margin", aggregation="top_k_mean", top_k=2, empty_score=0.5),
        DiversitySampler(method="kmeans++"),
        ClassBalanceSampler(smoothing=3.0),
        ClassAwareSampler(alpha=2.0, beta=0.0, aggregation="sum", empty_score="evidence"),
        TypiClustSampler(k_neighbors=5),
        BudgetAwareSampler(examples_per_class=4.0, candidates_factor=3.0),
        RandomSampler(),
        TwoStageSampler(first=ClassBalanceSampler(), candidates_factor=4.0),
        Sampler([UncertaintySampler(), Sampler([RandomSampler()])], weights=[0.7, 0.3]),
    ],
    ids=repr,
)
def test_spec_round_trip(sampler: BaseSampler) -> None:
    spec = json.loads(json.dumps(sampler_spec(sampler)))  # plain data, fit for a state file
    assert build_sampler(spec) == sampler


def test_unregistered_sampler_has_no_spec() -> None:
    class Custom(RandomSampler):
        pass

    with pytest.raises(ValueError, match="Custom is not a registered strategy"):
        sampler_spec(Custom())
    pool = Pool.from_lists(["a", "b"], [np.zeros((0, 1))] * 2, n_classes=1)
    assert len(Custom().select(pool, 1, rng=np.random.default_rng(0))) == 1  # still usable
