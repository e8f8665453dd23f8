"""The engine spec: alod.toml's settings reach it once, it survives the state file, and the
recipes of the previous version are read with their backend names translated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.backends import UnknownBackendError
from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.project import parse_project_config
from al_object_detection.spec import EngineSpec, read_recipe

MINIMAL = {
    "project": {"name": "trees", "state_dir": "state"},
    "dataset": {"name": "forest"},
    "detector": {"model": "weights/start.pt", "config": "yolo.toml"},
}


def spec_of(**sections: dict[str, Any]) -> EngineSpec:
    raw = {**MINIMAL, **sections}
    return EngineSpec.from_project(parse_project_config(raw, source=Path("/p/alod.toml")))


def test_budget_state_file_and_backend_go_from_alod_toml_into_the_spec() -> None:
    spec = spec_of(
        sampling={"budget": 7},
        annotation={"backend": "labelstudio", "prelabel_threshold": 0.5},
        stop={"max_rounds": 4},
    )
    assert spec.plan.budget == 7
    assert spec.plan.stop.max_rounds == 4
    assert spec.paths.state_file == Path("/p/state/trees.sqlite")
    assert spec.detector.work_dir == Path("/p/state/detector")
    assert spec.detector.config == Path("/p/yolo.toml")
    assert spec.annotation.backend == "labelstudio"
    prelabels = PrelabelSettings(min_confidence=0.5, max_boxes=100)
    assert spec.annotation.server_options() == {"prelabels": prelabels}


def test_only_cvat_gets_the_cvat_knobs_and_the_oracle_none() -> None:
    cvat = spec_of(annotation={"backend": "cvat", "task_size": 8})
    assert cvat.annotation.server_options()["task_size"] == 8
    assert spec_of().annotation.server_options() == {}


def test_a_spec_comes_back_from_its_recipe_unchanged() -> None:
    spec = spec_of(annotation={"backend": "cvat"}, sampling={"budget_unit": "boxes",
                                                            "bootstrap_size": 4})  # fmt: skip
    recipe = spec.dumps()
    assert "state_file" not in json.loads(recipe)["paths"]  # the file is where it is read from
    assert read_recipe(recipe, spec.paths.state_file) == spec
    assert read_recipe(None, spec.paths.state_file) is None


def former_recipe(annotator: str) -> str:
    """A recipe as the previous version of the learner wrote it."""
    return json.dumps({
        "dataset": "forest", "model_path": "yolov8n.yaml",
        "model_config": {"train": {"epochs": 1}, "predict": {"imgsz": 64}},
        "detector_work_dir": "/w/det", "sampler": {"name": "random"}, "annotator": annotator,
        "zero_shot_config": None, "workdir": "/w/work",
        "plan": {"budget": 5, "max_rounds": 2, "bootstrap": "random", "bootstrap_size": None,
                 "label_budget": None, "target_map50_95": None, "seed": 3, "poll_interval_s": 0},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "backend"),
    [("LabelStudioAnnotator", "labelstudio"), ("CvatAnnotator", "cvat"),
     ("OracleAnnotator", "oracle")],
)  # fmt: skip
def test_a_recipe_of_the_previous_version_is_read_in_todays_names(
    stored: str, backend: str
) -> None:
    spec = read_recipe(former_recipe(stored), Path("/w/state.sqlite"))
    assert spec is not None
    assert spec.annotation.backend == backend
    assert (spec.dataset, spec.plan.budget, spec.plan.seed) == ("forest", 5, 3)
    assert spec.plan.strategy == {"name": "random"}
    assert spec.detector.config == {"train": {"epochs": 1}, "predict": {"imgsz": 64}}
    assert spec.paths.work_dir == Path("/w/work")


def test_a_former_custom_annotator_stays_custom() -> None:
    spec = read_recipe(former_recipe("ReviewedOracle"), Path("/w/state.sqlite"))
    assert spec is not None
    assert (spec.annotation.backend, spec.annotation.custom) == (None, "ReviewedOracle")


def test_an_unknown_backend_in_a_recipe_is_refused_naming_the_backends() -> None:
    recipe = json.loads(spec_of().dumps())
    recipe["annotation"]["backend"] = "label-studio"
    with pytest.raises(UnknownBackendError, match=r"'label-studio'.*oracle, cvat, labelstudio"):
        read_recipe(json.dumps(recipe), Path("/w/state.sqlite"))
