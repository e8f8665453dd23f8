"""``from al_object_detection.model_initializers import ...``: the zero-shot start.

The original module's import path for :class:`ZeroShotModelInitializer` and the zero-shot
detector, kept so its README's usage runs as written.
"""

from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
from al_object_detection.initializer import ZeroShotModelInitializer

__all__ = ["ZeroShotModelInitializer", "ZeroShot_ALObjectDetector"]
