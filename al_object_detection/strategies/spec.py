"""The inverse of ``registry.build_sampler``: a sampler back to the spec that builds it.

Lets a state file record the strategy as plain data, so a run resumes with no pickled code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from al_object_detection.strategies.base import BaseSampler
from al_object_detection.strategies.hybrid import Sampler
from al_object_detection.strategies.registry import registered_names


def sampler_spec(sampler: BaseSampler) -> dict[str, Any]:
    """The registry spec of ``sampler`` (nested samplers as nested specs)."""
    if isinstance(sampler, Sampler):
        parts = [
            {**sampler_spec(part), "weight": weight}
            for part, weight in zip(sampler.parts, sampler.weights, strict=True)
        ]
        return {"name": "hybrid", "parts": parts}
    names = registered_names()
    if type(sampler) not in names:
        raise ValueError(f"{type(sampler).__name__} is not a registered strategy; cannot save it")
    spec: dict[str, Any] = {"name": names[type(sampler)]}
    for field in dataclasses.fields(sampler):
        value = getattr(sampler, field.name)
        spec[field.name] = sampler_spec(value) if isinstance(value, BaseSampler) else value
    return spec
