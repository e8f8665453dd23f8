"""Credentials and settings: environment, systemd credentials, .env; missing ones fail at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.credentials import SecretSource, parse_dotenv
from al_object_detection.adapters.annotation.cvat.annotator import CvatHandle, CvatSettings
from al_object_detection.adapters.annotation.label_studio.annotator import (
    LabelStudioHandle,
    LabelStudioSettings,
)
from al_object_detection.adapters.annotation.protocol import AnnotationConfigError


def test_dotenv_lines_are_parsed_like_a_shell_would() -> None:
    text = """
    # CVAT
    export FIFTYONE_CVAT_URL=https://cvat.example.com
    FIFTYONE_CVAT_USERNAME="bot user"
    FIFTYONE_CVAT_PASSWORD='p#ss=word'
    EMPTY=
    TRAILING=value # a comment
    not a line
    """
    assert parse_dotenv(text) == {
        "FIFTYONE_CVAT_URL": "https://cvat.example.com",
        "FIFTYONE_CVAT_USERNAME": "bot user",
        "FIFTYONE_CVAT_PASSWORD": "p#ss=word",
        "EMPTY": "",
        "TRAILING": "value",
    }


def test_the_environment_wins_then_systemd_credentials_then_dotenv(tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "B").write_text("from-credentials\n")
    (tmp_path / "creds" / "C").write_text("from-credentials\n")
    (tmp_path / ".env").write_text("A=from-dotenv\nC=from-dotenv\nD=from-dotenv\n")
    environ = {"A": "from-env", "CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    source = SecretSource.default(tmp_path / ".env", environ)
    assert [source.get(n) for n in "ABCDE"] == [
        "from-env",
        "from-credentials",
        "from-credentials",
        "from-dotenv",
        None,
    ]
    assert source.get("E", "D") == "from-dotenv"
    assert "systemd credentials" in source.describe()


def test_cvat_settings_come_from_any_source(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "FIFTYONE_CVAT_URL=http://cvat:8080\nFIFTYONE_CVAT_USERNAME=bot\n"
    )
    (tmp_path / "FIFTYONE_CVAT_PASSWORD").write_text("secret\n")
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    settings = CvatSettings.from_env(SecretSource.default(tmp_path / ".env", environ), job_size=7)
    assert (settings.url, settings.username, settings.password) == (
        "http://cvat:8080",
        "bot",
        "secret",
    )
    assert settings.job_size == 7
    token_only = SecretSource({"FIFTYONE_CVAT_URL": "https://c", "FIFTYONE_CVAT_TOKEN": "t"})
    assert CvatSettings.from_env(token_only).token == "t"


def test_missing_cvat_settings_name_what_to_set_and_never_prompt(tmp_path: Path) -> None:
    source = SecretSource.default(tmp_path / "absent.env", {"FIFTYONE_CVAT_USERNAME": "bot"})
    with pytest.raises(AnnotationConfigError) as error:
        CvatSettings.from_env(source)
    message = str(error.value)
    for name in ("FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_TOKEN", "FIFTYONE_CVAT_PASSWORD"):
        assert name in message
    assert "(none found)" in message


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"url": "cvat.example.com", "token": "t"}, "http"),
        ({"url": "http://c", "username": "bot"}, "token"),
        ({"url": "http://c", "token": "t", "job_size": 0}, "at least 1"),
        ({"url": "http://c", "token": "t", "done_when": "reviewed"}, "done_when"),
    ],
)
def test_bad_cvat_settings_are_config_errors(options: dict[str, object], problem: str) -> None:
    with pytest.raises(AnnotationConfigError, match=problem):
        CvatSettings(**options)  # type: ignore[arg-type]


def test_label_studio_settings_come_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "LABEL_STUDIO_URL": "http://ls:8080",
        "FIFTYONE_LABELSTUDIO_API_KEY": "k",
        "LOCAL_FILES_DOCUMENT_ROOT": str(tmp_path),
    }
    settings = LabelStudioSettings.from_env(SecretSource(environ))
    assert (settings.url, settings.api_key, settings.document_root) == (
        "http://ls:8080",
        "k",
        tmp_path,
    )
    with pytest.raises(
        AnnotationConfigError, match="FIFTYONE_LABELSTUDIO_API_KEY or LABEL_STUDIO_API_KEY"
    ):
        LabelStudioSettings.from_env(SecretSource({"LABEL_STUDIO_URL": "http://ls"}))


def test_handles_are_json_a_new_process_can_read() -> None:
    cvat = CvatHandle("k", (3, 4), ("a", "b"))
    assert CvatHandle.loads(cvat.dumps()) == cvat
    studio = LabelStudioHandle("k", 9, ("a",))
    assert LabelStudioHandle.loads(studio.dumps()) == studio
    with pytest.raises(AnnotationConfigError, match="not a CVAT handle"):
        CvatHandle.loads(studio.dumps())
    with pytest.raises(AnnotationConfigError, match="not a Label Studio handle"):
        LabelStudioHandle.loads("not json")


def test_annotation_server_settings_come_from_alod_toml() -> None:
    from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
    from al_object_detection.project import ProjectConfigError, parse_project_config
    from al_object_detection.spec import EngineSpec

    def server_options(raw: dict[str, Any]) -> dict[str, Any]:
        return EngineSpec.from_project(parse_project_config(raw)).annotation.server_options()

    base: dict[str, Any] = {
        "project": {"name": "p"}, "dataset": {"name": "d"}, "detector": {"model": "yolov8n.yaml"},
    }  # fmt: skip
    knobs = {
        "backend": "cvat", "done_when": "acceptance", "task_size": 200, "job_size": 20,
        "image_quality": 80, "prelabel_threshold": 0.4, "prelabel_max_boxes": 30,
    }  # fmt: skip
    assert server_options({**base, "annotation": knobs}) == {
        "prelabels": PrelabelSettings(min_confidence=0.4, max_boxes=30),
        "done_when": "acceptance", "task_size": 200, "job_size": 20, "image_quality": 80,
    }  # fmt: skip
    studio = {**base, "annotation": {"backend": "labelstudio"}}
    assert server_options(studio) == {"prelabels": PrelabelSettings()}
    assert server_options(base) == {}
    for wrong, message in (
        ({"done_when": "review"}, "done_when = 'review'; allowed: completed, acceptance"),
        ({"job_size": 0}, "job_size = 0 must be >= 1"),
        ({"image_quality": 101}, r"image_quality = 101 must lie in \[0, 100\]"),
        ({"prelabel_threshold": 1.5}, r"prelabel_threshold = 1.5 must lie in \[0, 1\]"),
        ({"task_size": "big"}, "task_size = 'big' must be an integer"),
    ):
        with pytest.raises(ProjectConfigError, match=message):
            parse_project_config({**base, "annotation": {**knobs, **wrong}})
