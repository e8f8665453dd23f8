"""Turn one image's raw OWLv2 output into an ``ImagePrediction``: threshold, pixels, NMS."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torchvision.ops import batched_nms, box_convert

from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.adapters.zero_shot.config import PredictSettings

_MIN_SIDE = 1.0  # pixels


def to_prediction(
    filepath: str,
    size: tuple[int, int],
    class_logits: torch.Tensor,
    boxes_cxcywh: torch.Tensor,
    embedding: torch.Tensor,
    settings: PredictSettings,
) -> ImagePrediction:
    """Keep boxes whose best class score reaches the threshold, suppressed within each class.

    ``size`` is (width, height); ``class_logits`` (P, C) and ``boxes_cxcywh`` (P, 4, relative
    to the image padded to a square) cover every patch.
    """
    width, height = size
    scores = torch.sigmoid(class_logits.float())
    confidences, labels = scores.max(dim=-1)
    side = float(max(width, height))
    boxes = box_convert(boxes_cxcywh.float(), "cxcywh", "xyxy") * side
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0.0, float(width))
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0.0, float(height))
    sides = boxes[:, 2:] - boxes[:, :2]
    visible = (sides >= _MIN_SIDE).all(dim=1)  # not a sliver left after clipping off the padding
    candidates = torch.nonzero((confidences >= settings.threshold) & visible)[:, 0]
    kept = batched_nms(
        boxes[candidates], confidences[candidates], labels[candidates], settings.nms_iou
    )
    keep = candidates[kept[: settings.max_det]]
    return ImagePrediction(
        filepath=filepath,
        width=width,
        height=height,
        boxes_xyxy=_numpy(boxes[keep]),
        label_ids=labels[keep].cpu().numpy().astype(np.int64),
        confidences=_numpy(confidences[keep]),
        class_scores=_numpy(scores[keep]),
        embedding=_numpy(embedding),
    )


def _numpy(tensor: torch.Tensor) -> NDArray[np.float32]:
    return np.ascontiguousarray(tensor.float().cpu().numpy(), dtype=np.float32)
