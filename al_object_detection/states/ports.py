"""What the engine needs from the dataset, as a Protocol (``adapters/dataset/store.py`` is the
FiftyOne one); what it needs from a strategy is ``strategies.base.Strategy``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from al_object_detection.adapters.detection.evaluation import DetectionMetrics
    from al_object_detection.adapters.detection.protocol import ImagePrediction


class Store(Protocol):
    """Pool, labeled and validation splits, predictions and labels, keyed by sample id."""

    @property
    def classes(self) -> tuple[str, ...]:
        """The project's class names."""
        ...

    def reload(self) -> None:
        """See what another process wrote since (new samples, new fields)."""

    def ids(self, split: str) -> list[str]:
        """Sample ids of one split (``pool``, ``labeled``, ``val``), in a stable order."""
        ...

    def counts(self) -> dict[str, int]:
        """Number of samples per split."""
        ...

    def existing(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` still in the dataset."""
        ...

    def filepaths(self, ids: Sequence[str]) -> list[str]:
        """Image paths of ``ids``, in the same order."""
        ...

    def stale_predictions(self, ids: Sequence[str], model_id: str) -> list[str]:
        """Those of ``ids`` without predictions from ``model_id``, in order."""
        ...

    def write_predictions(
        self,
        predictions: Iterable[tuple[str, ImagePrediction]],
        classes: Sequence[str],
        *,
        model_id: str = "",
    ) -> int:
        """Store boxes, class scores and embeddings; how many images were written."""
        ...

    def prediction_arrays(
        self, ids: Sequence[str], n_classes: int
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
        """Per-box class scores (CSR values and offsets) and embeddings of ``ids``."""
        ...

    def embeddings(self, ids: Sequence[str]) -> NDArray[Any] | None:
        """Embeddings of ``ids`` in order, or None when any is missing."""
        ...

    def class_counts(self) -> NDArray[np.int64]:
        """Labeled boxes per class, in :attr:`classes` order."""
        ...

    def predictions(self, ids: Sequence[str]) -> list[Any]:
        """The stored predictions of ``ids`` in order (None where there are none)."""
        ...

    def set_labels(self, labels: Mapping[str, Any], *, round_index: int) -> None:
        """Store human labels and move those samples from the pool to the labeled split."""

    def export_yolo(self, export_dir: Path) -> Path:
        """Write the labeled (train) and validation splits for training; the data yaml."""
        ...

    def evaluate(self, ids: Sequence[str], *, eval_key: str) -> DetectionMetrics:
        """COCO mAP of the stored predictions of ``ids`` against their ground truth."""
        ...
