"""A round's record and page from a real dataset and state file, with known pre-label edits."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.data.yolo import read_yolo
from al_object_detection.report.build import ReportSettings, write_report
from al_object_detection.report.costs import PRIORS
from al_object_detection.report.records import collect_record, save_record
from al_object_detection.report.timing import POLLED, SERVER
from al_object_detection.report.unit_costs import image_costs
from al_object_detection.report.views import view_name
from al_object_detection.states.store import RoundStore
from tests.report.pagecheck import check_self_contained

pytestmark = pytest.mark.integration
METRICS = {"map50": 0.5, "map50_95": 0.3, "labeled": 0, "per_class": {}}


def detection(fo: Any, label: str, box: list[float], confidence: float | None = None) -> Any:
    return fo.Detection(label=label, bounding_box=box, confidence=confidence)


def run_round(rounds: RoundStore, index: int, picked: list[str], model: str) -> None:
    """The state file of an evaluated round, as the engine writes it."""
    rounds.open_round(index, len(picked), actor="test")
    rounds.fire(index, "start", actor="test")
    rounds.fire(index, "predicted", actor="test")
    rounds.intent(f"picks:p:r{index}:a1", round_index=index, kind="picks", payload={
        "ids": picked, "reasons": [f"reason {i}" for i in range(len(picked))],
        "scores": [0.9, None][: len(picked)]})  # fmt: skip
    rounds.fire(index, "sampled", actor="test", picked=picked)
    rounds.intent(f"p-r{index}", round_index=index, kind="annotate", payload=picked)
    rounds.complete_intent(f"p-r{index}", "handle")


def finish_round(rounds: RoundStore, index: int, model: str, labeled: int) -> None:
    for trigger in ("annotated", "imported"):
        rounds.fire(index, trigger, actor="test")
    rounds.fire(index, "trained", actor="test", model_path=model)
    rounds.fire(index, "evaluated", actor="test", metrics={**METRICS, "labeled": labeled})


@pytest.fixture
def store(dataset_name: str, shapes_dir: Path) -> FiftyOneStore:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    return store


def test_the_record_counts_each_edit_the_annotators_made(
    store: FiftyOneStore, tmp_path: Path, fo: Any
) -> None:
    rounds = RoundStore(tmp_path / "state.sqlite")
    pool = store.ids("pool")
    a, b = pool[0], pool[1]
    truth = store.hidden_labels([a, b])
    boxes_a = [(d.label, d.bounding_box) for d in truth[a].detections]
    boxes_b = [(d.label, d.bounding_box) for d in truth[b].detections]
    assert len(boxes_b) >= 2
    other = next(c for c in store.classes if c != boxes_b[0][0])
    predicted = {
        # a: every true box, one made-up box (deleted), one below the threshold (not shown)
        a: fo.Detections(detections=[detection(fo, lbl, box, 0.9) for lbl, box in boxes_a]
                         + [detection(fo, other, [0.0, 0.0, 0.05, 0.05], 0.8),
                            detection(fo, other, [0.5, 0.5, 0.1, 0.1], 0.1)]),
        # b: its first box with the wrong class (relabelled); the others missed (added)
        b: fo.Detections(detections=[detection(fo, other, boxes_b[0][1], 0.7)]),
    }  # fmt: skip
    store.dataset.set_values("predictions", predicted, key_field="id")
    store.dataset.set_values("prediction_model", {a: "m0", b: "m0"}, key_field="id")

    run_round(rounds, 1, [a, b], "m1")
    start = datetime.fromisoformat(rounds.intents(1)[-1]["created_at"])
    stamp = (start + timedelta(seconds=42)).isoformat()
    for detections in truth.values():
        for d in detections.detections:
            d["annotated_at"] = stamp  # the server's job time, as the CVAT backend keeps it
    store.set_labels(truth, round_index=1)
    finish_round(rounds, 1, "m1", labeled=2)

    record = collect_record(store, rounds, 1, PrelabelSettings())
    by_id = {p["id"]: p for p in record["picks"]}
    assert by_id[a]["edits"] == {"kept": len(boxes_a), "moved": 0, "relabelled": 0,
                                 "deleted": 1, "added": 0}  # fmt: skip
    assert by_id[b]["edits"] == {"kept": 0, "moved": 0, "relabelled": 1, "deleted": 0,
                                 "added": len(boxes_b) - 1}  # fmt: skip
    assert len(by_id[a]["prelabels"]) == len(boxes_a) + 1
    assert (by_id[a]["reason"], by_id[a]["score"]) == ("reason 0", 0.9)
    assert (by_id[b]["reason"], by_id[b]["score"]) == ("reason 1", None)
    assert record["annotation"] == {"seconds": pytest.approx(42.0), "source": SERVER}
    assert record["labeled_images"] == 2
    assert record["labeled_boxes"] == len(boxes_a) + len(boxes_b)

    settings = ReportSettings(project="p", reports_dir=tmp_path / "reports")
    save_record(settings.reports_dir, record)
    page = check_self_contained(write_report(store, rounds, settings).read_text())
    kept_rate = f"{len(boxes_a) / (len(boxes_a) + 2):.0%}"
    assert kept_rate in page.sections["prelabels"]
    assert "42.0" in page.sections["annotation-time"]
    assert "reason 0" in page.sections["picks"]
    assert store.dataset.has_saved_view(view_name(1))


def test_prelabels_replaced_by_a_later_model_are_not_reported_as_edits(
    store: FiftyOneStore, tmp_path: Path, fo: Any
) -> None:
    rounds = RoundStore(tmp_path / "state.sqlite")
    picked = store.ids("pool")[:2]
    run_round(rounds, 1, picked, "m1")
    store.set_labels(store.hidden_labels(picked), round_index=1)
    finish_round(rounds, 1, "m1", labeled=2)
    # the next round predicted the labeled set again with round 1's model
    store.dataset.set_values("prediction_model", dict.fromkeys(picked, "m1"), key_field="id")
    record = collect_record(store, rounds, 1, PrelabelSettings())
    assert not record["prelabels_available"]
    assert all(p["prelabels"] is None and p["edits"] is None for p in record["picks"])
    assert record["annotation"]["source"] == POLLED
    assert "reason 0" in {p["reason"] for p in record["picks"]}


def test_a_round_that_was_not_evaluated_gets_a_clear_error(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    rounds = RoundStore(tmp_path / "state.sqlite")
    settings = ReportSettings(project="p", reports_dir=tmp_path / "reports")
    with pytest.raises(ValueError, match="no evaluated round yet"):
        write_report(store, rounds, settings)
    run_round(rounds, 0, store.ids("pool")[:1], "m0")
    with pytest.raises(ValueError, match=r"round 0 has not been evaluated \(evaluated: none\)"):
        write_report(store, rounds, settings, 0)


def test_each_pool_image_costs_its_predicted_boxes_or_their_seconds(
    store: FiftyOneStore, tmp_path: Path, fo: Any
) -> None:
    a, b, c = store.ids("pool")[:3]
    scores = {a: [0.9, 0.3, 0.1], b: [], c: [0.5, 0.26]}
    store.dataset.set_values("predictions", {
        i: fo.Detections(detections=[detection(fo, "disc", [0.1, 0.1, 0.1, 0.1], s) for s in v])
        for i, v in scores.items()
    }, key_field="id")  # fmt: skip
    ids = [c, b, a, store.ids("pool")[3]]  # any order; the last one was never predicted
    shown = PrelabelSettings(min_confidence=0.25, max_boxes=1)
    assert image_costs(store, ids, "boxes", tmp_path, PrelabelSettings()).tolist() == [2, 0, 2, 0]
    assert image_costs(store, ids, "boxes", tmp_path, shown).tolist() == [1, 0, 1, 0]
    assert image_costs(store, ids, "images", tmp_path).tolist() == [1, 1, 1, 1]
    seconds = image_costs(store, ids, "seconds", tmp_path)  # no rounds yet: the priors
    assert seconds.tolist() == pytest.approx(PRIORS.image_seconds(np.array([2, 0, 2, 0])).tolist())
    with pytest.raises(ValueError, match="budget unit 'pages'"):
        image_costs(store, ids, "pages", tmp_path)
