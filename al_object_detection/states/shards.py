"""The predicting step in shards, each one an intent: a killed driver resumes without
re-predicting the shards it finished.

The pool is cut into shards of consecutive ids; a shard's intent key names the round, its
position and a digest of its ids and the model, so a pool that changed between two runs gets
new keys where it changed. A shard's predictions are written before its intent completes; a
shard whose intent never completed is predicted again, skipping the images already written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from al_object_detection.adapters.detection.protocol import Detector
    from al_object_detection.states.ports import Store
    from al_object_detection.states.store import RoundStore


@dataclass(frozen=True)
class Shard:
    """Consecutive sample ids predicted as one intent."""

    key: str
    ids: list[str]


def cut(sample_ids: Sequence[str], size: int, *, prefix: str, model_id: str) -> list[Shard]:
    """``sample_ids`` in shards of ``size``, keyed ``<prefix>:s<index>:<digest>``."""
    shards = []
    for index, start in enumerate(range(0, len(sample_ids), size)):
        ids = [str(i) for i in sample_ids[start : start + size]]
        digest = hashlib.sha1("\n".join([model_id, *ids]).encode()).hexdigest()[:12]
        shards.append(Shard(f"{prefix}:s{index}:{digest}", ids))
    return shards


def predict_shards(
    store: Store,
    intents: RoundStore,
    shards: Sequence[Shard],
    *,
    round_index: int,
    detector: Detector,
) -> int:
    """Predict every shard whose intent is not done, in one stream over all of them; each
    shard's predictions are written, then its intent completes. Returns the images written."""
    model_id, classes = detector.model_id, detector.classes
    pending = [
        shard
        for shard in shards
        if intents.intent(
            shard.key, round_index=round_index, kind="predict", payload={"images": len(shard.ids)}
        )
        is None
    ]
    todo = [(shard, store.stale_predictions(shard.ids, model_id)) for shard in pending]
    paths = store.filepaths([sample_id for _, ids in todo for sample_id in ids])
    stream = iter(detector.predict(paths))
    written = 0
    for shard, ids in todo:
        predictions = zip(ids, islice(stream, len(ids)), strict=True)
        count = store.write_predictions(predictions, classes, model_id=model_id)
        intents.complete_intent(shard.key, {"predicted": count})
        written += count
    return written
