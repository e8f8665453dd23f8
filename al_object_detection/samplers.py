"""``from al_object_detection.samplers import ...``: the samplers under the original module's path.

They live in :mod:`al_object_detection.strategies`; this path is kept so the original README's
usage runs as written.
"""

from al_object_detection.strategies import (
    DiversitySampler,
    RandomSampler,
    Sampler,
    UncertaintySampler,
)

__all__ = ["DiversitySampler", "RandomSampler", "Sampler", "UncertaintySampler"]
