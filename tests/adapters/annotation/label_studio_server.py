"""A real Label Studio for the tests, run by ``scripts/label_studio.sh`` from its own venv."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "label_studio.sh"
USERNAME, PASSWORD = "alod-bot@example.com", "bot-Pass-12345"


@dataclass
class LabelStudioServer:
    """One Label Studio process on 127.0.0.1 with a throw-away data dir."""

    venv: Path
    data_dir: Path
    document_root: Path
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "LS_VENV": str(self.venv),
            "LABEL_STUDIO_USERNAME": USERNAME,
            "LABEL_STUDIO_PASSWORD": PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": self.token,
        }
        command = [
            str(SCRIPT),
            "start",
            str(self.data_dir),
            str(self.port),
            str(self.document_root),
        ]
        subprocess.run(command, env=env, check=True, timeout=400)

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.data_dir)], check=True, timeout=60)


def label_studio_venv() -> Path:
    """The Label Studio venv; the tests fail (not skip) with how to install it when it is absent."""
    venv = Path(os.environ.get("LS_VENV", REPO / ".ls-venv"))
    if not (venv / "bin" / "label-studio").exists():
        pytest.fail(
            f"Label Studio is not installed in {venv}: run `scripts/label_studio.sh install` "
            "(or `make label-studio`), which puts label-studio==1.23.2 into its own venv "
            "(.ls-venv; set LS_VENV to use another one)",
            pytrace=False,
        )
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def new_server(venv: Path, scratch: Path) -> LabelStudioServer:
    (scratch / "files").mkdir()
    return LabelStudioServer(
        venv=venv,
        data_dir=scratch / "data",
        document_root=scratch / "files",
        port=free_port(),
        token=secrets.token_hex(20),
    )
