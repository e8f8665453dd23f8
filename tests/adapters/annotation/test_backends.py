"""One backend name everywhere: the table of backends, earlier names read, batch links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from al_object_detection.adapters.annotation.backends import (
    BACKENDS,
    UnknownBackendError,
    backend,
    backend_of,
    batch_links,
    canonical_backend,
)
from al_object_detection.adapters.annotation.credentials import SecretSource
from al_object_detection.adapters.annotation.cvat.annotator import (
    CvatAnnotator,
    CvatHandle,
    CvatSettings,
)
from al_object_detection.adapters.annotation.label_studio.annotator import (
    LabelStudioAnnotator,
    LabelStudioHandle,
    LabelStudioSettings,
)
from al_object_detection.project import BACKENDS as CONFIG_BACKENDS

SOURCE = SecretSource(
    {"FIFTYONE_CVAT_URL": "https://cvat.example", "FIFTYONE_LABELSTUDIO_URL": "http://ls:8080/"}
)


def test_alod_toml_names_the_backends_of_the_table() -> None:
    assert tuple(BACKENDS) == tuple(CONFIG_BACKENDS) == ("oracle", "cvat", "labelstudio")


@pytest.mark.parametrize(
    ("stored", "name"),
    [("labelstudio", "labelstudio"), ("label_studio", "labelstudio"),
     ("LabelStudioAnnotator", "labelstudio"), ("CvatAnnotator", "cvat"), ("cvat", "cvat"),
     ("OracleAnnotator", "oracle")],
)  # fmt: skip
def test_stored_names_of_every_version_come_back_in_todays_spelling(stored: str, name: str) -> None:
    assert canonical_backend(stored) == name


@pytest.mark.parametrize("name", ["label_studio", "Label Studio", "ReviewedOracle", ""])
def test_an_unknown_name_is_refused_naming_the_backends(name: str) -> None:
    with pytest.raises(UnknownBackendError, match="the backends are oracle, cvat, labelstudio"):
        backend(name)
    if name != "label_studio":
        with pytest.raises(UnknownBackendError):
            canonical_backend(name)


def test_an_annotator_belongs_to_its_own_class_backend_only(tmp_path: Path) -> None:
    class ReviewedStudio(LabelStudioAnnotator):
        pass

    studio = LabelStudioSettings(url="http://ls", api_key="k", document_root=tmp_path)
    cvat = CvatSettings(url="http://cvat", token="t")
    assert backend_of(LabelStudioAnnotator(None, studio)) == "labelstudio"  # type: ignore[arg-type]
    assert backend_of(CvatAnnotator(None, cvat)) == "cvat"  # type: ignore[arg-type]
    assert backend_of(ReviewedStudio(None, studio)) is None  # type: ignore[arg-type]


def test_a_label_studio_handle_names_todays_backend_and_earlier_ones_are_read() -> None:
    handle = LabelStudioHandle("trees-r1", 12, ("a",)).dumps()
    assert json.loads(handle)["backend"] == "labelstudio"
    former = json.dumps({**json.loads(handle), "backend": "label_studio"})
    assert LabelStudioHandle.loads(former) == LabelStudioHandle.loads(handle)
    assert batch_links(former, SOURCE) == ["http://ls:8080/projects/12"]


def test_links_are_asked_of_the_backend_that_made_the_batch() -> None:
    cvat = CvatHandle("t-r1", (7,), ("a",), "https://bob:pw@cvat.other", ((7, 12),)).dumps()
    assert batch_links(cvat, SOURCE) == [
        "https://cvat.other/tasks/7", "https://cvat.other/tasks/7/jobs/12",
    ]  # fmt: skip
    unknown_server = CvatHandle("t-r1", (8,), ("a",)).dumps()
    assert batch_links(unknown_server, SOURCE) == ["https://cvat.example/tasks/8"]
    assert batch_links(unknown_server, SecretSource({})) == ["tasks/8"]
    oracle = json.dumps({"key": "t-r1", "sample_ids": ["a"], "at": 0.0})
    assert batch_links(oracle, SOURCE) == []


@pytest.mark.parametrize(
    ("name", "settings"), [("cvat", CvatSettings), ("labelstudio", LabelStudioSettings)]
)
def test_a_service_unit_s_credentials_are_enough_to_configure_the_server(
    tmp_path: Path, name: str, settings: type[CvatSettings | LabelStudioSettings]
) -> None:
    values = {"_URL": "http://127.0.0.1:8080", "_ROOT": str(tmp_path)}
    for key in backend(name).credentials:  # what `alod install-service` makes the unit load
        (tmp_path / key).write_text(values.get(key[key.rindex("_") :], "s3cret"))
    assert settings.from_env(SecretSource(credentials_dir=tmp_path)).url.startswith("http://")
