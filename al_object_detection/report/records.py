"""One round's facts, collected right after its evaluation and kept as JSON beside the state.

A record holds what a later report cannot recompute: the pre-labels the annotators saw (the
next round's prediction replaces them), each pick's reason (from the state file), the final
labels of the picks, the round's annotation time and the metrics. ``reports/round-NNN.json``
in the project's state folder.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.report.costs import CostModel, CostObservation, fit_cost_model
from al_object_detection.report.prelabels import Edits, compare, total
from al_object_detection.report.timing import annotation_time
from al_object_detection.states.store import RoundStore

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore

PICKS_KIND = "picks"


def record_path(reports_dir: Path, round_index: int) -> Path:
    """Where round ``round_index``'s record lives."""
    return reports_dir / f"round-{round_index:03d}.json"


def save_record(reports_dir: Path, record: dict[str, Any]) -> Path:
    """Write a record atomically (a crash leaves the old one or the new one, never half)."""
    path = record_path(reports_dir, int(record["round"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(_json_ready(record), indent=1, allow_nan=False))
    os.replace(partial, path)
    return path


def load_record(reports_dir: Path, round_index: int) -> dict[str, Any] | None:
    """A saved record, or None."""
    path = record_path(reports_dir, round_index)
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def load_records(reports_dir: Path) -> list[dict[str, Any]]:
    """Every saved record, oldest round first."""
    paths = sorted(reports_dir.glob("round-*.json")) if reports_dir.is_dir() else []
    return [json.loads(p.read_text()) for p in paths]


def round_edits(record: dict[str, Any]) -> Edits | None:
    """The round's edit counts, or None when its pre-labels were not recorded."""
    found = [Edits(**p["edits"]) for p in record["picks"] if p["edits"] is not None]
    return total(found) if found else None


def cost_observation(record: dict[str, Any]) -> CostObservation | None:
    """One round as a cost observation (None without a recorded time)."""
    timing = record.get("annotation")
    if not timing:
        return None
    labeled = [p for p in record["picks"] if p["labeled"]]
    edits = round_edits(record)
    return CostObservation(
        seconds=float(timing["seconds"]),
        images=len(labeled),
        added=edits.added if edits else sum(len(p["labels"]) for p in labeled),
        corrected=edits.corrected if edits else 0,
        prelabels=edits.prelabels if edits else 0,
    )


def cost_model(records: Sequence[dict[str, Any]]) -> CostModel:
    """The cost model fitted on the rounds' recorded time and edits."""
    return fit_cost_model([o for o in map(cost_observation, records) if o is not None])


def pick_reasons(rounds: RoundStore, round_index: int) -> dict[str, tuple[str, float | None]]:
    """The strategy's reason and score for each pick of the round's last sampling."""
    recorded = [i for i in rounds.intents(round_index) if i["kind"] == PICKS_KIND]
    if not recorded:
        return {}
    payload = recorded[-1]["payload"]
    return {
        sample_id: (reason, score)
        for sample_id, reason, score in zip(
            payload["ids"], payload["reasons"], payload["scores"], strict=True
        )
    }


def collect_record(
    store: FiftyOneStore, rounds: RoundStore, round_index: int, threshold: PrelabelSettings
) -> dict[str, Any]:
    """Everything the report needs about one evaluated round, read now; pre-labels are the
    predictions ``threshold`` lets through, as the annotation servers were sent them.
    """
    current = rounds.get(round_index)
    fields = store.fields
    picked = list(current.picked or [])
    view = store.dataset.select(picked, ordered=True)
    ids = [str(i) for i in view.values("id")]
    split = view.values(fields.split)
    paths = view.values("filepath")
    final = _boxes(view, fields.ground_truth)
    predictions = _boxes(view, fields.predictions, confidence=True)
    models = (
        view.values(fields.prediction_model)
        if store.dataset.has_sample_field(fields.prediction_model)
        else [None] * len(ids)
    )
    later = {r.model_path for r in rounds.rounds() if r.round >= round_index and r.model_path}
    replaced = any(model in later for model in models if model)
    reasons = pick_reasons(rounds, round_index)
    picks = []
    for i, sample_id in enumerate(ids):
        shown = None if replaced else _prelabels(predictions[i], threshold)
        reason, score = reasons.get(sample_id, ("not recorded", None))
        labeled = split[i] == "labeled"
        picks.append({
            "id": sample_id, "filepath": paths[i], "reason": reason, "score": score,
            "labeled": labeled, "labels": final[i] if labeled else [], "prelabels": shown,
            "edits": compare(shown, final[i]).as_dict() if shown is not None and labeled else None,
        })  # fmt: skip
    stamps = [s for pick_stamps in _stamps(view, fields.ground_truth) for s in pick_stamps]
    timing = annotation_time(rounds, round_index, stamps)
    labeled_view = store.dataset.match(
        {fields.split: "labeled", fields.round: {"$lte": round_index}}
    )
    return {
        "round": round_index,
        "attempt": current.attempt,
        "metrics": current.metrics or {},
        "labeled_images": len(labeled_view),
        "labeled_boxes": int(labeled_view.count(f"{fields.ground_truth}.detections")),
        "prelabels_available": not replaced,
        "picks": picks,
        "annotation": None
        if timing is None
        else {"seconds": timing.seconds, "source": timing.source},
    }


def _boxes(view: Any, field: str, *, confidence: bool = False) -> list[list[Any]]:
    if not view.has_sample_field(field):
        return [[] for _ in range(len(view))]
    labels = view.values(f"{field}.detections.label")
    boxes = view.values(f"{field}.detections.bounding_box")
    scores = view.values(f"{field}.detections.confidence") if confidence else None
    result = []
    for index, (names, coords) in enumerate(zip(labels, boxes, strict=True)):
        row: list[Any] = []
        for j, (name, box) in enumerate(zip(names or [], coords or [], strict=True)):
            item: list[Any] = [name, [float(v) for v in box]]
            if scores is not None:
                value = (scores[index] or [None] * (j + 1))[j]
                item.append(None if value is None else float(value))
            row.append(item)
        result.append(row)
    return result


def _prelabels(predicted: list[Any], settings: PrelabelSettings) -> list[Any]:
    """The boxes the annotation backends send: above the threshold, the most confident first."""
    kept = [
        (label, box, 1.0 if conf is None else conf)
        for label, box, conf in predicted
        if conf is None or conf >= settings.min_confidence
    ]
    kept.sort(key=lambda item: item[2], reverse=True)
    return [[label, box] for label, box, _ in kept[: settings.max_boxes]]


def _stamps(view: Any, field: str) -> list[list[str | None]]:
    """Server time stamps on the boxes (``annotated_at``), where a backend set them."""
    if not view.has_sample_field(field):
        return []
    try:
        values = view.values(f"{field}.detections.annotated_at")
    except (ValueError, KeyError, AttributeError):  # no box carries the attribute
        return []
    return [[v if isinstance(v, str) else None for v in (s or [])] for s in values]


def _json_ready(value: Any) -> Any:
    """``value`` with NaN and infinities as null (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
