"""The oracle: a simulated annotator that reveals the dataset's hidden ground truth.

It lets users benchmark strategies on data they have already labeled, before spending
human time. Its handle is the JSON list of the batch's sample ids, so it needs no state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from al_object_detection.adapters.annotation import AnnotationProgress
from al_object_detection.adapters.fiftyone_store import FiftyOneStore


class OracleAnnotator:
    """Answers every request at once from the hidden ground-truth field."""

    def __init__(self, store: FiftyOneStore) -> None:
        self.store = store

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        return json.dumps({"key": key, "sample_ids": list(sample_ids)})

    def poll(self, handle: str) -> AnnotationProgress:
        total = len(_sample_ids(handle))
        return AnnotationProgress(completed=total, total=total)

    def fetch(self, handle: str) -> dict[str, Any]:
        labels = self.store.hidden_labels(_sample_ids(handle))
        missing = [sample_id for sample_id, value in labels.items() if value is None]
        if missing:
            raise LookupError(
                f"the oracle has no hidden ground truth for {len(missing)} samples: {missing[:5]}"
            )
        return labels


def _sample_ids(handle: str) -> list[str]:
    try:
        return list(json.loads(handle)["sample_ids"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not an oracle handle: {handle[:80]!r}") from error
