"""What a project refers to is checked before work starts: model, detector config, zero-shot
config and weights, the dataset; each problem names the file and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.project import ProjectConfig, ProjectConfigError, parse_project_config
from al_object_detection.project_files import check_dataset, check_project_files


def project(tmp_path: Path, **sections: dict[str, Any]) -> ProjectConfig:
    raw = {
        "project": {"name": "trees"},
        "dataset": {"name": "forest"},
        "detector": {"model": "yolov8n.yaml"},
        **sections,
    }
    return parse_project_config(raw, source=tmp_path / "alod.toml")


def test_shipped_model_yamls_and_local_checkpoints_pass(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "start.pt").write_bytes(b"checkpoint")
    (tmp_path / "yolo.toml").write_text("[train]\nepochs = 3\n[predict]\nconf = 0.1\n")
    for model in ("yolov8n.yaml", "yolo11s.yaml", "weights/start.pt"):
        check_project_files(project(tmp_path, detector={"model": model, "config": "yolo.toml"}))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("weights/strat.pt", r"checkpoint not found: .*strat\.pt \(did you mean 'start\.pt'\?\)"),
        ("missing/start.pt", r"model: checkpoint not found: .*missing/start\.pt \(weights are"),
        ("yolov8q.yaml", r"not a file, nor a model yaml that ultralytics ships \(did you mean"),
    ],
)
def test_a_model_that_is_not_there_is_named(tmp_path: Path, model: str, message: str) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "start.pt").write_bytes(b"checkpoint")
    with pytest.raises(ProjectConfigError, match=message):
        check_project_files(project(tmp_path, detector={"model": model}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[train]\nepoch = 3\n", r"yolo\.toml: unknown key in \[train\] 'epoch' \(did you mean"),
        ("[predict]\nconf = 2\n", r"yolo\.toml: \[predict\] conf = 2 must lie in \[0, 1\]"),
        ("[trian]\n", r"yolo\.toml: unknown section 'trian' \(did you mean 'train'\?\)"),
        ("[train\n", r"yolo\.toml: not valid TOML"),
    ],
)
def test_a_bad_detector_config_is_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "yolo.toml").write_text(text)
    config = project(tmp_path, detector={"model": "yolov8n.yaml", "config": "yolo.toml"})
    with pytest.raises(ProjectConfigError, match=r"alod\.toml: \[detector\] config: .*" + message):
        check_project_files(config)


def test_a_missing_detector_config_is_named(tmp_path: Path) -> None:
    config = project(tmp_path, detector={"model": "yolov8n.yaml", "config": "yolo.tmol"})
    with pytest.raises(ProjectConfigError, match=r"yolo\.tmol: cannot read the config file"):
        check_project_files(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\nweigths = 'owl'\n", r"unknown key in \[model\] 'weigths' \(did you mean 'weig"),
        ("[model]\nweights = 'owl'\n", r"\[model\] weights: weights folder not found: .*owl"),
        ("", r"weights: OWLv2 weights 'google/owlv2-base-patch16-ensemble' are not available"),
    ],
)
def test_a_zero_shot_bootstrap_checks_its_config_and_weights(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "owl2.toml").write_text(text)
    sampling = {"bootstrap": "zero_shot", "zero_shot_config": "owl2.toml"}
    with pytest.raises(ProjectConfigError, match=r"\[sampling\] zero_shot_config: .*" + message):
        check_project_files(project(tmp_path, sampling=sampling))


def test_zero_shot_example_images_must_exist(tmp_path: Path) -> None:
    weights = tmp_path / "owl"  # what the check looks at; loading happens in the worker
    weights.mkdir()
    (weights / "config.json").write_text('{"model_type": "owlv2"}')
    for name in ("model.safetensors", "preprocessor_config.json", "tokenizer.json"):
        (weights / name).write_text("{}")
    (tmp_path / "owl2.toml").write_text(
        "[model]\nweights = 'owl'\n"
        "[[examples]]\nclass = 'circle'\nimage = 'gone.png'\nbox = [0, 0, 4, 4]\n"
    )
    sampling = {"bootstrap": "zero_shot", "zero_shot_config": "owl2.toml"}
    with pytest.raises(ProjectConfigError, match=r"\[\[examples\]\] images not found: .*gone\.png"):
        check_project_files(project(tmp_path, sampling=sampling))
    (tmp_path / "gone.png").write_bytes(b"an image")
    check_project_files(project(tmp_path, sampling=sampling))


def test_a_missing_dataset_is_an_error_unless_create_is_set(tmp_path: Path) -> None:
    config = project(tmp_path, dataset={"name": "frest"})
    with pytest.raises(
        ProjectConfigError,
        match=r"\[dataset\] name = 'frest': no such FiftyOne dataset \(did you mean 'forest'"
        r".*\); there are: 'fields', 'forest'\. .*set \[dataset\] create = true",
    ):
        check_dataset(config, ["forest", "fields"])
    assert check_dataset(project(tmp_path, dataset={"name": "forest"}), ["forest"]) is False
    created = project(tmp_path, dataset={"name": "frest", "create": True})
    assert check_dataset(created, ["forest"]) is True
    many = [f"set-{i:02d}" for i in range(25)]
    with pytest.raises(ProjectConfigError, match=r"'set-19' and 5 more\."):
        check_dataset(config, many)
