"""An ultralytics ``DetectionPredictor`` that also returns class-score vectors and embeddings.

Imported only from inside the detector adapter, after the offline runtime is active.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from ultralytics.models.yolo.detect import DetectionPredictor
from ultralytics.utils import nms

from al_object_detection.adapters.detection.pooling import foreground_embedding


class ScoringPredictor(DetectionPredictor):  # type: ignore[misc]
    """Keeps each kept box's full class-score vector and a pooled image embedding (over the
    ``embedding_boxes`` most confident boxes, or the whole map: see ``pooling``)."""

    embedding_layer: int = 15
    embedding_pooling: str = "max"
    embedding_boxes: int = 0

    def setup_model(self, model: Any, verbose: bool = True) -> None:
        super().setup_model(model, verbose=verbose)
        self._maps: torch.Tensor | None = None
        layers = self.model.model.model  # the fused DetectionModel's layer list
        layers[self.embedding_layer].register_forward_hook(self._keep_maps)

    def _keep_maps(self, _module: Any, _inputs: Any, output: torch.Tensor) -> None:
        self._maps = output.detach()

    def _embeddings(self, kept: list[torch.Tensor], img: torch.Tensor) -> list[NDArray[Any]] | None:
        """One embedding per image, from boxes still in the network's input pixels."""
        if self._maps is None:
            return None
        input_hw = (int(img.shape[2]), int(img.shape[3]))
        return [
            foreground_embedding(
                self._maps[i].float(), boxes[:, :4], boxes[:, 4], input_hw=input_hw,
                how=self.embedding_pooling, top_k=self.embedding_boxes,
            ).cpu().numpy().astype(np.float32)
            for i, boxes in enumerate(kept)
        ]  # fmt: skip

    def postprocess(
        self, preds: Any, img: torch.Tensor, orig_imgs: Any, **kwargs: Any
    ) -> list[Any]:
        raw = preds[0] if isinstance(preds, (list, tuple)) else preds
        n_classes = len(self.model.names)
        end2end = bool(getattr(self.model, "end2end", False)) or raw.shape[-1] == 6
        kept, kept_idx = nms.non_max_suppression(
            preds,
            self.args.conf,
            self.args.iou,
            self.args.classes,
            self.args.agnostic_nms,
            max_det=self.args.max_det,
            end2end=end2end,
            return_idxs=True,
        )
        if not isinstance(orig_imgs, list):
            from ultralytics.utils import ops

            orig_imgs = ops.convert_torch2numpy_batch(orig_imgs)[..., ::-1]
        embeddings = self._embeddings(kept, img)  # before boxes are scaled to the image
        results = self.construct_results(kept, img, orig_imgs)
        for i, (result, idx) in enumerate(zip(results, kept_idx, strict=True)):
            idx = idx.long().view(-1)
            if end2end:  # end-to-end heads (YOLOv10, YOLO26) keep only the top score per box
                scores = _top_score_vectors(kept[i], n_classes)
            else:
                scores = raw[i, 4 : 4 + n_classes, idx].T.float().cpu().numpy()
            result.class_scores = np.ascontiguousarray(scores, dtype=np.float32)
            result.embedding = embeddings[i] if embeddings is not None else None
        return list(results)


def scoring_predictor(
    embedding_layer: int, pooling: str = "max", boxes: int = 0
) -> type[ScoringPredictor]:
    """A ``ScoringPredictor`` class that pools the given layer's output ("max" or "mean") over
    its ``boxes`` most confident predicted boxes (0: the whole map)."""
    attrs = {
        "embedding_layer": embedding_layer,
        "embedding_pooling": pooling,
        "embedding_boxes": boxes,
    }
    return type("ScoringPredictor", (ScoringPredictor,), attrs)


def _top_score_vectors(kept: torch.Tensor, n_classes: int) -> NDArray[Any]:
    scores = np.zeros((kept.shape[0], n_classes), dtype=np.float32)
    labels = kept[:, 5].long().cpu().numpy()
    scores[np.arange(len(labels)), labels] = kept[:, 4].float().cpu().numpy()
    return scores
