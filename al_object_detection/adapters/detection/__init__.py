"""Detectors: the protocol, ultralytics YOLO with its config, prediction and evaluation."""
