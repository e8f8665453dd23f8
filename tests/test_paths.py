"""Every file of a project is derived from its state file in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_object_detection.daemon.settings import parse_daemon_settings
from al_object_detection.paths import ProjectPaths, default_state_dir
from al_object_detection.project import parse_project_config


def test_a_project_keeps_its_files_beside_its_state_file() -> None:
    paths = ProjectPaths.for_project(Path("/srv/state"), "trees")
    assert paths.state_file == Path("/srv/state/trees.sqlite")
    assert paths.work_dir == paths.state_dir == Path("/srv/state")
    assert (paths.instance_lock, paths.pool_lock, paths.daemon_db) == (
        Path("/srv/state/trees.lock"),
        Path("/srv/state/trees.pool.lock"),
        Path("/srv/state/trees.daemon.sqlite"),
    )
    assert (paths.metrics_file, paths.log_file) == (
        Path("/srv/state/trees.prom"),
        Path("/srv/state/trees.log.jsonl"),
    )
    assert (paths.quarantine, paths.image_store, paths.detector_dir, paths.reports_dir) == (
        Path("/srv/state/quarantine"),
        Path("/srv/state/images"),
        Path("/srv/state/detector"),
        Path("/srv/state/reports"),
    )


def test_a_library_run_keeps_the_original_modules_cache_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    paths = ProjectPaths.for_dataset("MY_DATASET")
    assert paths.state_file == Path("cache/MY_DATASET_al_state.sqlite")
    assert paths.work_dir == tmp_path / "cache" / "MY_DATASET_work"
    assert paths.daemon_db == Path("cache/MY_DATASET_al_state.daemon.sqlite")
    given = ProjectPaths.for_dataset("d", tmp_path / "s.sqlite", tmp_path / "w")
    assert (given.state_file, given.work_dir) == (tmp_path / "s.sqlite", tmp_path / "w")


def test_the_daemon_settings_default_to_the_projects_paths() -> None:
    raw = {"project": {"name": "trees"}, "dataset": {"name": "f"}, "detector": {"model": "m.pt"}}
    project = parse_project_config(raw, source=Path("/p/alod.toml"))
    settings = parse_daemon_settings({}, project, source=Path("/p/alod.toml"))
    paths = project.paths
    assert paths.state_file == Path("/p/alod-state/trees.sqlite")
    assert (settings.quarantine, settings.image_store) == (paths.quarantine, paths.image_store)
    assert (settings.metrics_file, settings.log_file) == (paths.metrics_file, paths.log_file)


def test_the_runtime_default_is_the_environments_else_the_users_state_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALOD_STATE_DIR", "/var/lib/alod")
    assert default_state_dir() == Path("/var/lib/alod")
    monkeypatch.delenv("ALOD_STATE_DIR")
    assert default_state_dir() == Path.home() / ".local" / "state" / "al_object_detection"
