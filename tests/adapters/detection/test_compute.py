"""``[compute]`` in alod.toml: local by default, Ray on request, every mistake named."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.detection.compute import ComputeSettings
from al_object_detection.project import ProjectConfigError, parse_project_config
from al_object_detection.spec import EngineSpec

MINIMAL = {
    "project": {"name": "trees"},
    "dataset": {"name": "forest"},
    "detector": {"model": "weights/start.pt"},
}
SOURCE = Path("/projects/trees/alod.toml")


def parse(compute: dict[str, Any]) -> Any:
    return parse_project_config({**MINIMAL, "compute": compute}, source=SOURCE)


def test_prediction_is_local_unless_the_config_says_ray() -> None:
    assert parse_project_config(MINIMAL, source=SOURCE).compute == ComputeSettings()
    assert ComputeSettings().backend == "local"


def test_a_ray_section_reaches_the_engine_spec_and_its_recipe() -> None:
    config = parse({"backend": "ray", "address": "ray://head:10001", "num_gpus": 1,
                    "num_cpus": 2, "batch_size": 64, "shard_size": 5000})  # fmt: skip
    wanted = ComputeSettings("ray", "ray://head:10001", 2.0, 1.0, 64, 5000)
    assert config.compute == wanted
    spec = EngineSpec.from_project(config)
    assert spec.compute == wanted
    assert EngineSpec.loads(spec.dumps(), spec.paths.state_file).compute == wanted


@pytest.mark.parametrize("address", ["local", "auto", "ray://10.0.0.5:10001", "head:6379"])
def test_addresses_ray_takes(address: str) -> None:
    assert parse({"backend": "ray", "address": address}).compute.address == address


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        ({"backend": "spark"}, r"\[compute\] backend = 'spark'; allowed: local, ray"),
        ({"batchsize": 8}, r"unknown key in \[compute\] 'batchsize' \(did you mean 'batch_size'"),
        ({"num_gpus": "one"}, r"\[compute\] num_gpus = 'one' must be a number"),
        ({"shard_size": 0}, r"\[compute\] shard_size = 0 must be >= 1"),
        ({"batch_size": True}, r"\[compute\] batch_size = True must be an integer"),
        ({"address": "http://head:8265"}, r"\[compute\] address = 'http://head:8265'; allowed"),
    ],
)
def test_a_bad_compute_setting_is_named(compute: dict[str, Any], message: str) -> None:
    with pytest.raises(ProjectConfigError, match=message) as caught:
        parse(compute)
    assert str(caught.value).startswith(f"{SOURCE}: ")


def test_ray_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra has
    with pytest.raises(ProjectConfigError) as caught:
        parse({"backend": "ray"})
    assert "[compute] backend = 'ray' needs Ray, which is not installed" in str(caught.value)
    assert "pip install 'al-object-detection[ray]'" in str(caught.value)
    assert parse({"backend": "local"}).compute.backend == "local"
