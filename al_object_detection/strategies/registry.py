"""Strategies by name, so a TOML config can choose one and set its parameters.

A spec is a strategy name or a table with ``name`` and that strategy's parameters::

    {"name": "uncertainty", "method": "margin", "aggregation": "top_k_mean"}
    {"name": "hybrid", "parts": [{"name": "uncertainty", "weight": 0.7},
                                 {"name": "random", "weight": 0.3}]}
    {"name": "two_stage", "first": {"name": "uncertainty"}, "second": "diversity",
     "candidates_factor": 10}
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from al_object_detection.strategies.base import BaseSampler
from al_object_detection.strategies.budget_aware import BudgetAwareSampler
from al_object_detection.strategies.hybrid import Sampler, TwoStageSampler
from al_object_detection.strategies.samplers import (
    ClassAwareSampler,
    ClassBalanceSampler,
    DiversitySampler,
    ObjectCountSampler,
    RandomSampler,
    TypiClustSampler,
    UncertaintySampler,
)

_PLAIN: dict[str, type[BaseSampler]] = {
    "uncertainty": UncertaintySampler,
    "class_aware": ClassAwareSampler,
    "diversity": DiversitySampler,
    "typiclust": TypiClustSampler,
    "class_balance": ClassBalanceSampler,
    "objects": ObjectCountSampler,
    "random": RandomSampler,
    "two_stage": TwoStageSampler,
    "budget_aware": BudgetAwareSampler,
}
_NESTED = {"first", "second"}  # two_stage parameters that are strategies themselves


class StrategyConfigError(ValueError):
    """A strategy spec names an unknown strategy or parameter, or a bad value."""


def registered_names() -> dict[type[BaseSampler], str]:
    """Each registered sampler class with its name."""
    return {cls: name for name, cls in _PLAIN.items()}


def available() -> dict[str, dict[str, str]]:
    """Every strategy name with its parameters, each described as ``type = default``."""
    names = {name: _params(cls) for name, cls in _PLAIN.items()}
    names["hybrid"] = {
        "parts": "list of strategy specs, each with an optional weight (number >= 0, default 1)"
    }
    return names


def build_sampler(spec: str | Mapping[str, Any], *, where: str = "strategy") -> BaseSampler:
    """The sampler a spec describes; ``where`` names the spec in error messages."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise StrategyConfigError(
            f"{where}: expected a strategy name or table, got {type(spec).__name__}"
        )
    params = dict(spec)
    if "name" not in params:
        raise StrategyConfigError(f"{where}: missing 'name'; available: {', '.join(available())}")
    name = params.pop("name")
    if name == "hybrid":
        return _hybrid(params, where)
    if name not in _PLAIN:
        raise StrategyConfigError(
            f"{where}.name: unknown strategy {name!r}; available: {', '.join(available())}"
        )
    cls = _PLAIN[name]
    hints = get_type_hints(cls)
    allowed = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            raise StrategyConfigError(
                f"{where}: unknown parameter {key!r} for {name!r}; "
                f"allowed: {', '.join(allowed) or 'none'}"
            )
        if key in _NESTED:
            kwargs[key] = build_sampler(value, where=f"{where}.{key}")
        else:
            kwargs[key] = _checked(f"{where}.{key}", value, hints[key])
    try:
        return cls(**kwargs)
    except ValueError as err:
        raise StrategyConfigError(f"{where} ({name}): {err}") from err


def _hybrid(params: dict[str, Any], where: str) -> Sampler:
    parts = params.pop("parts", None)
    if params:
        raise StrategyConfigError(
            f"{where}: unknown parameter {next(iter(params))!r} for 'hybrid'; allowed: parts"
        )
    if not isinstance(parts, list) or not parts:
        raise StrategyConfigError(f"{where}.parts: expected a non-empty list of strategy specs")
    samplers, weights = [], []
    for i, part in enumerate(parts):
        here = f"{where}.parts[{i}]"
        if not isinstance(part, str | Mapping):
            raise StrategyConfigError(f"{here}: expected a strategy name or table, got {part!r}")
        part = {"name": part} if isinstance(part, str) else dict(part)
        weight = _checked(f"{here}.weight", part.pop("weight", 1.0), float)
        if weight < 0:
            raise StrategyConfigError(f"{here}.weight: must be >= 0, got {weight}")
        samplers.append(build_sampler(part, where=here))
        weights.append(weight)
    try:
        return Sampler(samplers, weights=weights)
    except ValueError as err:
        raise StrategyConfigError(f"{where}: {err}") from err


def _checked(where: str, value: Any, hint: Any) -> Any:
    """``value`` if it fits the annotation ``hint`` (ints are accepted as floats)."""
    if get_origin(hint) in (Union, types.UnionType):
        for option in get_args(hint):
            try:
                return _checked(where, value, option)
            except StrategyConfigError:
                continue
        raise StrategyConfigError(f"{where}: expected {_describe(hint)}, got {value!r}")
    if get_origin(hint) is Literal:
        if value not in get_args(hint):
            choices = ", ".join(repr(a) for a in get_args(hint))
            raise StrategyConfigError(f"{where}: {value!r} is not one of {choices}")
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise StrategyConfigError(
        f"{where}: expected {getattr(hint, '__name__', hint)}, got {type(value).__name__} {value!r}"
    )


def _params(cls: type[BaseSampler]) -> dict[str, str]:
    hints = get_type_hints(cls)
    defaults = cls()
    out = {}
    for f in dataclasses.fields(cls):
        default = getattr(defaults, f.name)
        hint = hints[f.name]
        if f.name in _NESTED:
            kind = f"strategy spec (default {registered_names()[type(default)]!r})"
        else:
            kind = f"{_describe(hint)} (default {default!r})"
        out[f.name] = kind
    return out


def _describe(hint: Any) -> str:
    """``float``, ``one of 'a', 'b'``, or ``float or one of 'evidence'`` for a union."""
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in get_args(hint))
    if get_origin(hint) is Literal:
        return f"one of {', '.join(map(repr, get_args(hint)))}"
    return str(hint.__name__)
