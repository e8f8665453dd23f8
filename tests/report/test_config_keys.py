"""``[sampling] budget_unit`` and ``[stop] min_gain`` in alod.toml, and the plan of their spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.project import ProjectConfigError, parse_project_config
from al_object_detection.spec import EngineSpec

MINIMAL = {
    "project": {"name": "trees"},
    "dataset": {"name": "forest"},
    "detector": {"model": "weights/start.pt"},
}


def parse(**sections: dict[str, Any]) -> Any:
    return parse_project_config({**MINIMAL, **sections}, source=Path("/p/alod.toml"))


def test_defaults_count_images_and_never_stop_on_gain() -> None:
    config = parse()
    assert (config.budget_unit, config.min_gain, config.min_gain_per) == ("images", None, "round")
    plan = EngineSpec.from_project(config).plan
    assert (plan.budget_unit, plan.stop.min_gain) == ("images", None)


def test_the_keys_reach_the_plan() -> None:
    config = parse(
        sampling={"budget": 600, "budget_unit": "seconds", "bootstrap_size": 16},
        stop={"min_gain": 0.004, "min_gain_per": "1000s"},
    )
    plan = EngineSpec.from_project(config).plan
    assert (plan.budget, plan.budget_unit) == (600, "seconds")
    assert (plan.stop.min_gain, plan.stop.min_gain_per) == (0.004, "1000s")


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"sampling": {"budget_unit": "hours"}}, "budget_unit = 'hours'; allowed: images, boxes"),
        ({"sampling": {"budget_unit": "boxes"}}, "needs bootstrap_size"),
        ({"stop": {"min_gain": -0.1}}, "min_gain = -0.1 must be >= 0"),
        ({"stop": {"min_gain_per": "day"}}, "min_gain_per = 'day'; allowed: round, 1000s"),
    ],
)
def test_bad_values_are_named(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(ProjectConfigError, match=message):
        parse(**sections)
