"""``[daemon]`` in alod.toml: defaults, paths, and one clear message per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_object_detection.daemon.settings import load_config
from al_object_detection.project import ProjectConfigError

BASE = """
[project]
name = "trees"
[dataset]
name = "forest"
[detector]
model = "yolov8n.yaml"
"""


def write(tmp_path: Path, daemon: str = "") -> Path:
    path = tmp_path / "alod.toml"
    path.write_text(BASE + ("[daemon]\n" + daemon if daemon else ""))
    return path


def test_defaults_live_in_the_state_dir(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    settings = config.daemon
    assert config.project.name == "trees"
    assert settings.watch == ()
    assert settings.quarantine == tmp_path / "alod-state" / "quarantine"
    assert settings.image_store == tmp_path / "alod-state" / "images"
    assert settings.metrics_file == tmp_path / "alod-state" / "trees.prom"
    assert settings.rules.formats == ("JPEG", "PNG")
    assert settings.shutdown_timeout_s == 30.0


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    daemon = 'watch = ["in/a", "in/b"]\nquarantine = "rejects"\nformats = ["png", "webp"]\n'
    settings = load_config(write(tmp_path, daemon)).daemon
    assert settings.watch == (tmp_path / "in" / "a", tmp_path / "in" / "b")
    assert settings.quarantine == tmp_path / "rejects"
    assert settings.rules.formats == ("PNG", "WEBP")
    assert ".webp" in settings.rules.suffixes


@pytest.mark.parametrize(
    ("daemon", "message"),
    [
        ("wacth = []\n", "unknown key in [daemon] 'wacth' (did you mean 'watch'?)"),
        ('watch = "drop"\n', "[daemon] watch = 'drop' must be a list"),
        ("settle_s = true\n", "[daemon] settle_s = True must be a number"),
        ("shutdown_timeout_s = 0\n", "[daemon] shutdown_timeout_s = 0 must be >= 1"),
        ('log_level = "loud"\n', "log_level = 'loud'; allowed: debug, info, warning, error"),
        ('formats = ["GIF"]\n', "image formats ['GIF'] not supported"),
        ("max_pixels = 1000000000\n", "max_pixels must lie in 1.."),
        ('watch = ["drop"]\nquarantine = "drop/rejects"\n', "overlaps the quarantine folder"),
        ('watch = ["a", "a/b"]\n', "overlaps the watch folder"),
    ],
)
def test_mistakes_get_one_clear_message(tmp_path: Path, daemon: str, message: str) -> None:
    with pytest.raises(ProjectConfigError, match=None) as error:
        load_config(write(tmp_path, daemon))
    assert message in str(error.value)
    assert str(tmp_path / "alod.toml") in str(error.value)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "alod.toml"
    path.write_text("[project\n")
    with pytest.raises(ProjectConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ProjectConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
