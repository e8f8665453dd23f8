"""What every detector gives the engine: per-box scores and per-image embeddings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ImagePrediction:
    """One image's detections: pixel boxes, labels, confidences, full class-score vectors."""

    filepath: str
    width: int
    height: int
    boxes_xyxy: NDArray[Any]  # (n, 4) float32, pixels
    label_ids: NDArray[Any]  # (n,) int64 indices into the detector's classes
    confidences: NDArray[Any]  # (n,) float32
    class_scores: NDArray[Any]  # (n, C) float32; for YOLO independent sigmoids, not a softmax
    embedding: NDArray[Any] | None = field(default=None)  # (D,) float32

    @property
    def relative_boxes(self) -> NDArray[Any]:
        """Boxes as FiftyOne stores them: [x_min, y_min, width, height] relative to the image."""
        scale = np.array([self.width, self.height, self.width, self.height], dtype=np.float32)
        xyxy = np.clip(self.boxes_xyxy / scale, 0.0, 1.0)
        return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)


@dataclass(frozen=True)
class TrainedModel:
    """The outcome of one training run: the best weights and ultralytics' own metrics."""

    weights: Path
    metrics: dict[str, float]


class Detector(Protocol):
    """A detector the active-learning engine can use."""

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, indexed by ``label_ids``."""
        ...

    @property
    def model_id(self) -> str:
        """Identifies the current weights; predictions from other weights are stale."""
        ...

    def predict(
        self, filepaths: Sequence[str], *, progress: bool = True
    ) -> Iterator[ImagePrediction]:
        """Stream predictions for the images, in order."""
        ...


class TrainableDetector(Detector, Protocol):
    """A detector that can be retrained on the labeled split."""

    def train(self, data_yaml: Path, *, round_index: int) -> TrainedModel:
        """Train on an exported YOLO dataset; the best weights become the current model."""
        ...

    def use_weights(self, path: Path) -> None:
        """Switch to other weights, such as an earlier round's best."""
        ...
