"""Detection datasets: one record type, YOLO/COCO readers, and fixture generators."""

from al_object_detection.data.coco import read_coco
from al_object_detection.data.deepforest import make_deepforest
from al_object_detection.data.fashion import make_fashion
from al_object_detection.data.records import DataError, DetectionData, LabeledImage
from al_object_detection.data.shapes import make_shapes
from al_object_detection.data.wheels import wheel_members
from al_object_detection.data.yolo import read_yolo, write_yolo

__all__ = [
    "DataError",
    "DetectionData",
    "LabeledImage",
    "make_deepforest",
    "make_fashion",
    "make_shapes",
    "read_coco",
    "read_yolo",
    "wheel_members",
    "write_yolo",
]
