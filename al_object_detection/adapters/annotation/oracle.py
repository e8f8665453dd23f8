"""The oracle: a simulated annotator that reveals the dataset's hidden ground truth.

It lets users benchmark strategies on data they have already labeled, before spending human
time: optionally slow (``delay_s``, progress grows linearly until done) and imperfect
(``LabelNoise``: missed boxes, wrong classes, jittered boxes). The noise is drawn from a
generator seeded by (seed, sample id), so fetching again returns the same labels. The handle
holds the batch's sample ids and submit time, so the oracle keeps no state of its own.
Images without hidden ground truth (added later, e.g. through a drop folder) cannot be
revealed: they are skipped with a log line and stay in the pool; a batch of only such images
is an error.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog

from al_object_detection.adapters.annotation.protocol import AnnotationProgress
from al_object_detection.adapters.dataset.store import FiftyOneStore

log = structlog.get_logger()


@dataclass(frozen=True)
class LabelNoise:
    """How wrong the simulated humans are: rates per box, jitter relative to box size."""

    miss_rate: float = 0.0
    wrong_class_rate: float = 0.0
    box_jitter: float = 0.0

    def __post_init__(self) -> None:
        for name in ("miss_rate", "wrong_class_rate", "box_jitter"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"LabelNoise.{name} must lie in [0, 1], got {value}")


class OracleAnnotator:
    """Answers requests from the hidden ground-truth field, after ``delay_s``, with noise.

    ``store`` is the project's ``FiftyOneStore`` or its FiftyOne dataset.
    """

    def __init__(
        self,
        store: FiftyOneStore | Any,
        *,
        delay_s: float = 0.0,
        noise: LabelNoise | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.delay_s, self.noise, self.seed, self.clock = (
            store if isinstance(store, FiftyOneStore) else FiftyOneStore(store),
            delay_s,
            noise,
            seed,
            clock,
        )

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        return json.dumps({"key": key, "sample_ids": list(sample_ids), "at": self.clock()})

    def poll(self, handle: str) -> AnnotationProgress:
        batch = _batch(handle)
        total = len(batch["sample_ids"])
        elapsed = self.clock() - float(batch["at"])
        fraction = 1.0 if self.delay_s <= 0 else min(1.0, max(0.0, elapsed / self.delay_s))
        return AnnotationProgress(completed=math.floor(total * fraction), total=total)

    def fetch(self, handle: str) -> dict[str, Any]:
        if not self.poll(handle).done:
            raise RuntimeError("the oracle's batch is not finished yet")
        known = self.store.hidden_labels(_batch(handle)["sample_ids"])
        labels = {i: value for i, value in known.items() if value is not None}
        skipped = sorted(set(known) - set(labels))
        if skipped and not labels:
            raise LookupError(
                f"the oracle can label none of the {len(skipped)} picked images: none has hidden "
                "ground truth (images added later, e.g. through a drop folder, have none); "
                f"first ids: {skipped[:5]}"
            )
        if skipped:
            log.warning(
                "oracle_skipped",
                images=len(skipped),
                labeled=len(labels),
                samples=skipped[:5],
                detail="no hidden ground truth; they stay in the pool, unlabeled",
            )
        if self.noise is None:
            return labels
        return {i: self._noisy(i, detections) for i, detections in labels.items()}

    def _noisy(self, sample_id: str, detections: Any) -> Any:
        assert self.noise is not None
        rng = np.random.default_rng([self.seed, zlib.crc32(sample_id.encode())])
        classes = list(self.store.classes)
        kept = []
        for detection in detections.detections:
            if rng.random() < self.noise.miss_rate:
                continue
            noisy = detection.copy()
            if len(classes) > 1 and rng.random() < self.noise.wrong_class_rate:
                noisy.label = str(rng.choice([c for c in classes if c != detection.label]))
            x, y, w, h = detection.bounding_box
            dx, dy, dw, dh = rng.normal(0.0, self.noise.box_jitter, 4) * [w, h, w, h]
            x0, y0 = min(max(x + dx, 0.0), 1.0), min(max(y + dy, 0.0), 1.0)
            noisy.bounding_box = [
                x0,
                y0,
                min(max(w + dw, 1e-4), 1.0 - x0),
                min(max(h + dh, 1e-4), 1.0 - y0),
            ]
            kept.append(noisy)
        result = detections.copy()
        result.detections = kept
        return result


def _batch(handle: str) -> dict[str, Any]:
    try:
        batch = json.loads(handle)
        return {"sample_ids": list(batch["sample_ids"]), "at": float(batch["at"])}
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not an oracle handle: {handle[:80]!r}") from error
