from __future__ import annotations

import pytest

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.zero_shot.config import parse_owl2_config
from al_object_detection.adapters.zero_shot.prompts import class_prompts, resolve_classes

EXAMPLE = {"class": "dog", "image": "dog.png", "box": [0, 0, 4, 4]}


def test_templates_synonyms_and_prompts_make_each_class_queries() -> None:
    config = parse_owl2_config(
        {
            "classes": {
                "names": ["cat", "dog"],
                "templates": ["a photo of a {}", "a blurry {}"],
                "synonyms": {"cat": ["kitten"]},
                "prompts": {"dog": ["a dog on a leash", "a blurry dog"]},
            }
        }
    )
    classes = resolve_classes(config, None)
    assert classes == ("cat", "dog")
    assert class_prompts(config, classes) == (
        ("a photo of a cat", "a photo of a kitten", "a blurry cat", "a blurry kitten"),
        ("a photo of a dog", "a blurry dog", "a dog on a leash"),
    )


def test_given_classes_replace_the_configured_ones() -> None:
    config = parse_owl2_config({"classes": {"names": ["cat"]}})
    assert resolve_classes(config, ["Tree", "Dead"]) == ("Tree", "Dead")


def test_no_class_names_says_where_to_put_them() -> None:
    config = parse_owl2_config({}, source="owl.toml")
    with pytest.raises(ConfigError, match=r"owl.toml: no class names: set \[classes\] names"):
        resolve_classes(config, None)


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (["cat", " "], r"the given classes: every class name must be a non-empty string"),
        (["cat", "cat"], r"the given classes: duplicate class names"),
    ],
)
def test_bad_given_classes(classes: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_classes(parse_owl2_config({}), classes)


@pytest.mark.parametrize(
    "raw",
    [
        {"classes": {"synonyms": {"kat": ["kitten"]}}},
        {"classes": {"prompts": {"kat": ["a cat"]}}},
        {"examples": [{**EXAMPLE, "class": "kat"}]},
    ],
)
def test_queries_for_an_unknown_class_list_the_classes(raw: dict[str, object]) -> None:
    config = parse_owl2_config(raw, source="owl.toml")
    with pytest.raises(
        ConfigError, match=r"owl.toml: .*'kat' is not a class \(allowed: cat, dog\)"
    ):
        resolve_classes(config, ["cat", "dog"])


def test_without_templates_a_class_needs_its_own_prompt_or_example() -> None:
    raw = {"classes": {"templates": [], "prompts": {"cat": ["a cat"]}}, "examples": [EXAMPLE]}
    config = parse_owl2_config(raw)
    assert class_prompts(config, ["cat", "dog"]) == (("a cat",), ())
    with pytest.raises(ConfigError, match=r"class 'bird' has no query"):
        class_prompts(config, ["cat", "dog", "bird"])
