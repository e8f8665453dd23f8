"""al_object_detection: active learning for object detection.

The library API of the original module, importable from here; names load lazily so that
``import al_object_detection`` stays fast and never touches torch, FiftyOne or the network.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ObjectDetectionActiveLearner": "al_object_detection.learner",
    "YOLOv8_ALObjectDetector": "al_object_detection.adapters.detection.yolo",
    "ZeroShot_ALObjectDetector": "al_object_detection.adapters.zero_shot.owlv2",
    "ZeroShotModelInitializer": "al_object_detection.initializer",
    "FiftyOneStore": "al_object_detection.adapters.dataset.store",
    "OracleAnnotator": "al_object_detection.adapters.annotation.oracle",
    "Sampler": "al_object_detection.strategies",
    "UncertaintySampler": "al_object_detection.strategies",
    "DiversitySampler": "al_object_detection.strategies",
    "RandomSampler": "al_object_detection.strategies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'al_object_detection' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
