"""The annotation-server contract, and the oracle: a simulated annotator for benchmarks.

Every backend (CVAT, Label Studio, the oracle) does three things: ``submit`` a batch of
samples with pre-labels and return a handle, ``poll`` the handle for progress, ``fetch``
the finished labels keyed by sample id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from al_object_detection.adapters.fiftyone_store import FiftyOneStore


@dataclass(frozen=True)
class AnnotationProgress:
    """How far the humans are with one submitted batch."""

    completed: int
    total: int

    @property
    def done(self) -> bool:
        return self.completed >= self.total


class Annotator(Protocol):
    """An annotation backend."""

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        """Send samples (with pre-labels) for annotation; same ``key``, same handle."""
        ...

    def poll(self, handle: str) -> AnnotationProgress:
        """Progress of a submitted batch."""
        ...

    def fetch(self, handle: str) -> dict[str, Any]:
        """Finished labels (FiftyOne ``Detections``) keyed by sample id."""
        ...


class OracleAnnotator:
    """Answers every request at once from the dataset's hidden ground-truth field."""

    def __init__(self, store: FiftyOneStore) -> None:
        self.store = store
        self._batches: dict[str, list[str]] = {}

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        self._batches.setdefault(key, list(sample_ids))
        return key

    def poll(self, handle: str) -> AnnotationProgress:
        total = len(self._batch(handle))
        return AnnotationProgress(completed=total, total=total)

    def fetch(self, handle: str) -> dict[str, Any]:
        labels = self.store.hidden_labels(self._batch(handle))
        missing = [sample_id for sample_id, value in labels.items() if value is None]
        if missing:
            raise LookupError(f"oracle has no hidden ground truth for {len(missing)} samples: {missing[:5]}")
        return labels

    def _batch(self, handle: str) -> list[str]:
        if handle not in self._batches:
            raise KeyError(f"unknown annotation handle {handle!r}")
        return self._batches[handle]
