"""OWLv2's forward pass split in its parts: query embeddings once, then image batches.

Text prompts are embedded once per detector, not once per image as ``model(...)`` would; an
example box becomes a query the way OWL-ViT's paper does it (the predicted box that best
matches the example, and among near-equal matches the most distinctive embedding).
Imported only from inside the detector, after the offline runtime is active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torchvision.ops import box_convert, box_iou

from al_object_detection.adapters.zero_shot.weights import Owlv2Parts

_EXAMPLE_IOU_FRACTION = 0.8  # boxes within this fraction of the best overlap are candidates


@dataclass(frozen=True)
class BatchOutput:
    """Raw detections for a batch of images, on the model's device."""

    class_logits: torch.Tensor  # (B, P, C): per class, the max over its queries
    boxes_cxcywh: torch.Tensor  # (B, P, 4) relative to the image padded to a square
    embeddings: torch.Tensor  # (B, D): mean of the normalised class-head patch embeddings


class Owlv2Engine:
    """Runs one loaded OWLv2 on a device at a fixed input size."""

    def __init__(self, parts: Owlv2Parts, *, device: str, image_size: int | None) -> None:
        vision = parts.model.config.vision_config
        self.image_size = image_size or int(vision.image_size)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = parts.model.to(self.device)
        self.processor = parts.image_processor
        self.tokenizer = parts.tokenizer
        self._interpolate = self.image_size != int(vision.image_size)
        self._max_tokens = int(parts.model.config.text_config.max_position_embeddings)

    def pixel_values(self, images: Sequence[Any]) -> torch.Tensor:
        """Pad each image to a square, resize to the input size, normalise: (B, 3, S, S)."""
        size = {"height": self.image_size, "width": self.image_size}
        batch = self.processor(
            images=list(images), size=size, return_tensors="pt", device=self.device
        )
        return batch["pixel_values"].to(self.device)

    def text_queries(self, prompts: Sequence[str]) -> torch.Tensor:
        """One query embedding per prompt: (Q, D)."""
        tokens = self.tokenizer(
            list(prompts),
            padding="max_length",
            truncation=True,
            max_length=self._max_tokens,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            output = self.model.owlv2.get_text_features(
                input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
            )
        features: torch.Tensor = getattr(output, "pooler_output", output)
        return features

    def example_query(self, image: Any, box_xyxy: Sequence[float]) -> torch.Tensor:
        """The class embedding of the predicted box that matches ``box_xyxy`` (pixels): (D,)."""
        with torch.inference_mode():
            features, feature_map = self._features(self.pixel_values([image]))
            _, class_embeds = self.model.class_predictor(features)
            boxes = self.model.box_predictor(features, feature_map, self._interpolate)
        side = float(max(image.size))
        target = torch.tensor([box_xyxy], dtype=boxes.dtype, device=boxes.device) / side
        ious = box_iou(box_convert(boxes[0], "cxcywh", "xyxy"), target)[:, 0]
        candidates = torch.nonzero(ious >= ious.max() * _EXAMPLE_IOU_FRACTION)[:, 0]
        embeds = class_embeds[0]
        similarity = embeds[candidates] @ embeds.mean(dim=0)
        return embeds[candidates[similarity.argmin()]]

    def detect(
        self,
        pixel_values: torch.Tensor,
        queries: torch.Tensor,
        query_class: torch.Tensor,
        n_classes: int,
    ) -> BatchOutput:
        """Score each patch's box against each query (of class ``query_class``); best per class."""
        with torch.inference_mode():
            features, feature_map = self._features(pixel_values)
            batch, patches = features.shape[:2]
            logits, class_embeds = self.model.class_predictor(
                features, queries.unsqueeze(0).expand(batch, -1, -1)
            )
            class_logits = torch.full(
                (batch, patches, n_classes), -torch.inf, dtype=logits.dtype, device=logits.device
            ).scatter_reduce(-1, query_class.expand(batch, patches, -1), logits, "amax")
            boxes = self.model.box_predictor(features, feature_map, self._interpolate)
        return BatchOutput(class_logits, boxes, class_embeds.mean(dim=1))

    def _features(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_map, _ = self.model.image_embedder(
            pixel_values=pixel_values, interpolate_pos_encoding=self._interpolate
        )
        batch, height, width, dim = feature_map.shape
        return feature_map.reshape(batch, height * width, dim), feature_map
