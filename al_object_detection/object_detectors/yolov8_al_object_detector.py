"""``from al_object_detection.object_detectors.yolov8_al_object_detector import ...``.

The original module's import path, kept so its README's usage runs as written.
"""

from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

__all__ = ["YOLOv8_ALObjectDetector"]
