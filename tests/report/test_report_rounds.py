"""Real rounds (FiftyOne, ultralytics, the oracle, a real state file) and their reports."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.assembly import build_engine
from al_object_detection.cli import main
from al_object_detection.project import load_project_config
from al_object_detection.report.unit_costs import expected_boxes
from al_object_detection.report.views import view_name
from al_object_detection.spec import EngineSpec
from tests.daemon.tiny import load_shapes, toml_text, write_project
from tests.report.pagecheck import check_self_contained

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def project(root: Path, dataset: str, **sections: dict[str, Any]) -> Path:
    """The daemon tests' tiny project, with more rounds and some settings changed."""
    path = write_project(root, dataset, rounds=6, poll_interval_s=0)
    raw = tomllib.loads(path.read_text())
    for section, values in sections.items():
        raw[section].update(values)
    path.write_text(toml_text(raw))
    return path


def test_rounds_write_a_report_each_and_min_gain_ends_the_project(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    store = load_shapes(fresh_dataset, shapes_dir)
    config = load_project_config(
        project(
            tmp_path, fresh_dataset, stop={"min_gain": 1.0}, annotation={"prelabel_threshold": 0.0}
        )
    )
    lines: list[str] = []
    engine = build_engine(EngineSpec.from_project(config), reports=True, log=lines.append)
    rounds = engine.run(sleep=lambda _: None)

    # min_gain = 1.0 cannot be met: the rule stops as soon as it has three rounds to fit
    assert [r.round for r in rounds] == [0, 1, 2]
    stop_lines = [line for line in lines if line.startswith("stop rule min_gain:")]
    assert stop_lines
    assert "is below min_gain 1" in stop_lines[-1]
    assert "mAP50-95 ~" in stop_lines[-1]
    assert "80% interval" in stop_lines[-1]
    assert engine.step().trigger == "done"  # asked again (the daemon polls): fitted once
    assert len([line for line in lines if line.startswith("stop rule min_gain:")]) == len(
        stop_lines
    )

    reports = config.state_dir / "reports"
    for r in rounds:  # the engine wrote each round's record and page after its evaluation
        assert (reports / f"round-{r.round:03d}.html").is_file()
        record = json.loads((reports / f"round-{r.round:03d}.json").read_text())
        assert [p["id"] for p in record["picks"]] == r.picked
        assert record["annotation"]["seconds"] >= 0
        assert any(f"round {r.round}: report " in line for line in lines)
    first = json.loads((reports / "round-000.json").read_text())
    assert {p["reason"] for p in first["picks"]} == {"random"}
    last = json.loads((reports / "round-002.json").read_text())
    assert all(p["reason"] not in ("random", "not recorded") for p in last["picks"])
    assert all(p["prelabels"] is not None and p["edits"] is not None for p in last["picks"])
    shown = sum(len(p["prelabels"]) for p in last["picks"])  # all boxes, at threshold 0
    edits = [p["edits"] for p in last["picks"]]
    assert shown > 0
    assert shown == sum(e["kept"] + e["moved"] + e["relabelled"] + e["deleted"] for e in edits)
    assert last["labeled_images"] == 14
    assert last["labeled_boxes"] == sum(len(p["labels"]) for r in range(3) for p in json.loads(
        (reports / f"round-{r:03d}.json").read_text())["picks"])  # fmt: skip

    page = check_self_contained((reports / "round-002.html").read_text())
    jpegs = [s for s in _images(page) if s.startswith("data:image/jpeg;base64,")]
    assert len(jpegs) == len(rounds[2].picked or [])
    assert base64.b64decode(jpegs[0].split(",", 1)[1])[:2] == b"\xff\xd8"
    assert "mAP50-95 ~" in page.sections["stopping"]
    assert "stop" in page.sections["stopping"]
    for name in store.classes:
        assert name in page.sections["per-class"]
    assert "s per image" in page.sections["cost-model"]
    assert "%" in page.sections["prelabels"]  # an acceptance rate, from real pre-labels

    store.dataset.reload()
    assert store.dataset.has_saved_view(view_name(2))
    saved = store.dataset.load_saved_view(view_name(2))
    assert [str(i) for i in saved.values("id")] == rounds[2].picked

    # the operator's command: an older round, to a chosen file
    out = tmp_path / "round1.html"
    assert main(["report", "--config", str(config.source), "--round", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page1 = check_self_contained(out.read_text())
    assert "round 1" in out.read_text()
    assert "two evaluated rounds" not in page1.sections["stopping"]
    assert main(["report", "--config", str(config.source), "--round", "7"]) == 2
    assert "round 7 has not been evaluated (evaluated: 0, 1, 2)" in capsys.readouterr().err


def _images(page: Any) -> list[str]:
    return [r for r in page.references if r.startswith("data:image/jpeg")]


def test_a_budget_in_boxes_takes_images_until_their_predicted_boxes_fill_it(
    tmp_path: Path, fresh_dataset: str, shapes_dir: Path, fo: Any
) -> None:
    store = load_shapes(fresh_dataset, shapes_dir)
    config = load_project_config(project(
        tmp_path, fresh_dataset, sampling={"budget": 12, "budget_unit": "boxes"},
        annotation={"prelabel_threshold": 0.0}, stop={"max_rounds": 1},
    ))  # fmt: skip
    lines: list[str] = []
    engine = build_engine(EngineSpec.from_project(config), reports=True, log=lines.append)
    rounds = engine.run(sleep=lambda _: None)

    assert len(rounds[0].picked or []) == 6  # a random round 0 counts images (bootstrap_size)
    picked = rounds[1].picked or []
    boxes = expected_boxes(store, picked, PrelabelSettings(min_confidence=0.0))
    assert boxes.min() > 0  # every pool image has predictions at threshold 0 (max_det 10)
    assert 1 <= len(picked) < 6
    assert boxes.sum() <= 12 or len(picked) == 1
    assert f"round 1: {len(picked)} images, {boxes.sum():.1f} of 12 boxes" in lines
