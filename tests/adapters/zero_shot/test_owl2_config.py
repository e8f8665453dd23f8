from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.zero_shot.config import load_owl2_config, parse_owl2_config


def test_shipped_defaults_load() -> None:
    config = load_owl2_config()
    assert config.weights == "google/owlv2-base-patch16-ensemble"
    assert config.classes.names == ()
    assert config.classes.templates == ("a photo of a {}",)
    assert 0.0 < config.predict.threshold < 0.5
    assert config.predict.image_size is None
    assert config.examples == ()


def test_a_file_resolves_example_paths_from_its_own_folder(tmp_path: Path) -> None:
    path = tmp_path / "configs" / "owl.toml"
    path.parent.mkdir()
    path.write_text(
        '[model]\nweights = "weights"\n'
        '[classes]\nnames = ["car"]\n[classes.synonyms]\ncar = ["van", " truck "]\n'
        '[[examples]]\nclass = "car"\nimage = "shots/a.jpg"\nbox = [1, 2, 30.5, 40]\n'
    )
    config = load_owl2_config(path)
    assert config.base_dir == path.parent
    assert config.source == str(path)
    assert config.classes.synonyms == {"car": ("van", "truck")}
    (example,) = config.examples
    assert example.image == path.parent / "shots" / "a.jpg"
    assert example.box_xyxy == (1.0, 2.0, 30.5, 40.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"modle": {}}, r"owl.toml: unknown section 'modle' \(did you mean 'model'\?\)"),
        ({"predict": {"treshold": 0.2}}, r"unknown key in \[predict\] 'treshold'.*threshold"),
        ({"predict": {"threshold": 1.5}}, r"\[predict\] threshold = 1.5 must lie in \[0, 1\]"),
        ({"predict": {"batch": True}}, r"\[predict\] batch = True must be an integer"),
        ({"predict": {"image_size": 8}}, r"\[predict\] image_size = 8 must be >= 16"),
        ({"model": {"weights": " "}}, r"\[model\] weights = ' ' must be a weights folder or"),
        ({"classes": {"names": ["a", "a"]}}, r"\[classes\] names has duplicates"),
        ({"classes": {"names": ["cat", ""]}}, r"\[classes\] names: an empty string"),
        ({"classes": {"templates": ["a photo"]}}, r"templates: 'a photo' has no '\{\}'"),
        ({"classes": {"templates": [""]}}, r"\[classes\] templates: an empty string"),
        ({"classes": {"synonyms": {"car": [""]}}}, r"\[classes.synonyms\] car: an empty str"),
        ({"classes": {"prompts": {"car": "a car"}}}, r"\[classes.prompts\] car = 'a car' must"),
        ({"examples": [{"class": "car", "box": [0, 0, 1, 1]}]}, r"#1 image is required"),
        (
            {"examples": [{"class": "car", "image": "a.png", "box": [5, 0, 2, 1]}]},
            r"\[\[examples\]\] #1: box = \[5, 0, 2, 1\] must be \[x_min",
        ),
        ({"examples": {"class": "car"}}, r"examples must be an array of tables"),
    ],
)
def test_bad_values_name_the_file_and_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_owl2_config(raw, source="owl.toml")


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[model\nweights = 1\n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        load_owl2_config(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent.toml: cannot read the config file"):
        load_owl2_config(tmp_path / "absent.toml")
