"""``from al_object_detection.active_learner.object_detection_active_learner import ...``.

The original module's import path, kept so its README's usage runs as written.
"""

from al_object_detection.learner import NotConfiguredError, ObjectDetectionActiveLearner

__all__ = ["NotConfiguredError", "ObjectDetectionActiveLearner"]
