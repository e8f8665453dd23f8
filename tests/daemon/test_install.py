"""The systemd unit: rendered from the config, the repository's example kept in step."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from al_object_detection.cli import main
from al_object_detection.daemon.install import render_unit, unit_spec
from al_object_detection.daemon.settings import load_config

from .tiny import write_project

SYSTEMD = Path(__file__).parents[2] / "systemd"


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_repository_unit_is_what_install_service_writes() -> None:
    config = load_config(SYSTEMD / "alod.toml.example")
    spec = unit_spec(
        config, Path("/etc/alod/alod.toml"), name="alod", alod=Path("/opt/alod/.venv/bin/alod")
    )
    assert render_unit(spec) == (SYSTEMD / "alod.service").read_text()


def test_the_unit_notifies_restarts_sanely_and_is_hardened() -> None:
    unit = directives((SYSTEMD / "alod.service").read_text())
    assert unit["Type"] == ["notify"]
    assert unit["ExecStart"] == ["/opt/alod/.venv/bin/alod run --config /etc/alod/alod.toml"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == ["78 73"]
    assert unit["StateDirectory"] == ["alod"]
    assert unit["WatchdogSec"] == ["2min"]
    assert unit["KillMode"] == ["mixed"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert unit[key] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert "PrivateDevices" not in unit  # the GPU's device nodes stay visible
    assert all(value.count(":") == 1 for value in unit["LoadCredential"])
    assert not any("PASSWORD=" in line for line in unit.get("Environment", []))
    writable = unit["ReadWritePaths"][0].split()
    assert "-/srv/alod/drop" in writable
    assert "-/srv/alod/quarantine" in writable


def test_install_service_writes_the_unit_and_says_what_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_project(tmp_path / "project", "install-data")
    dest = tmp_path / "units"
    assert main(["install-service", "--config", str(config), "--dest", str(dest)]) == 0
    unit = (dest / "alod-tiny.service").read_text()
    assert f"--config {config}" in unit
    assert "(the oracle needs no credentials)" in unit
    out = capsys.readouterr().out
    assert "systemctl enable --now alod-tiny" in out
    assert main(["install-service", "--config", str(config), "--print"]) == 0
    assert capsys.readouterr().out == unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    config = load_config(SYSTEMD / "alod.toml.example")
    spec = unit_spec(config, Path("/etc/alod/alod.toml"), name="alod", alod=Path("/bin/true"))
    unit = tmp_path / "alod.service"
    unit.write_text(render_unit(spec))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0, verify.stderr
    assert "Unknown" not in verify.stderr
