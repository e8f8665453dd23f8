from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.project import (
    ProjectConfigError,
    load_project_config,
    parse_project_config,
)

MINIMAL = {
    "project": {"name": "trees"},
    "dataset": {"name": "forest"},
    "detector": {"model": "weights/start.pt"},
}


def parse(**sections: dict[str, Any]) -> Any:
    raw = {**MINIMAL, **sections}
    return parse_project_config(raw, source=Path("/projects/trees/alod.toml"))


def test_minimal_config_gets_defaults_and_relative_paths() -> None:
    config = parse()
    assert config.model == "/projects/trees/weights/start.pt"
    assert config.paths.state_file == Path("/projects/trees/alod-state/trees.sqlite")
    assert (config.backend, config.budget, config.max_rounds) == ("oracle", 32, 3)
    assert config.label_budget is None
    assert config.target_map50_95 is None
    assert config.strategy["name"] == "budget_aware"


def test_a_missing_dataset_is_created_only_when_the_config_says_so() -> None:
    assert parse().create_dataset is False
    assert parse(dataset={"name": "forest", "create": True}).create_dataset is True


def test_model_yaml_names_are_kept_as_is() -> None:
    assert parse(detector={"model": "yolov8n.yaml"}).model == "yolov8n.yaml"


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"projcet": {}}, r"unknown section 'projcet' \(did you mean 'project'\?\)"),
        (
            {"sampling": {"budegt": 3}},
            r"unknown key in \[sampling\] 'budegt' \(did you mean 'budget'\?\)",
        ),
        ({"sampling": {"budget": "ten"}}, r"\[sampling\] budget = 'ten' must be an integer"),
        ({"sampling": {"budget": 0}}, r"\[sampling\] budget = 0 must be >= 1"),
        (
            {"annotation": {"backend": "labelbox"}},
            r"backend = 'labelbox'; allowed: oracle, cvat, labelstudio",
        ),
        ({"stop": {"target_map50_95": 2}}, r"target_map50_95 = 2 must lie in \[0, 1\]"),
        ({"stop": {"max_rounds": True}}, r"max_rounds = True must be an integer"),
        ({"dataset": {"name": "forest", "create": "yes"}}, r"create = 'yes' must be true or false"),
        ({"dataset": {"name": "forest", "create": 1}}, r"create = 1 must be true or false"),
        ({"sampling": {"strategy": {"name": "psychic"}}}, r"\[sampling\] strategy.*psychic"),
    ],
)
def test_wrong_values_name_the_key_and_what_is_allowed(
    sections: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProjectConfigError, match=message):
        parse(**sections)


def test_missing_required_key() -> None:
    with pytest.raises(ProjectConfigError, match=r"\[detector\] model is required"):
        parse_project_config({**MINIMAL, "detector": {}})


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectConfigError, match=r"absent\.toml: cannot read"):
        load_project_config(tmp_path / "absent.toml")
    broken = tmp_path / "alod.toml"
    broken.write_text("[project\n")
    with pytest.raises(ProjectConfigError, match=r"alod\.toml: not valid TOML"):
        load_project_config(broken)
