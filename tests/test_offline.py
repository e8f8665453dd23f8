"""The offline guarantee: importing, predicting and training never reach for the network.

Every Python process of a guarded run, its children included, has :mod:`network_guard`
installed at start-up (its docstring says what lies outside it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SUPPORT = Path(__file__).parent / "support"


def run_guarded(
    script: str, tmp_path: Path, *args: str
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run ``script`` in a child whose non-loopback connections fail, as do its children's;
    return the attempts."""
    report = tmp_path / "attempts.json"
    env = {
        **os.environ,
        "NETWORK_GUARD_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join([str(SUPPORT / "network_guard_site"), *sys.path]),
        "ALOD_STATE_DIR": str(tmp_path / "state"),
    }
    for name in ("YOLO_OFFLINE", "HF_HUB_OFFLINE", "YOLO_CONFIG_DIR", "OMP_NUM_THREADS"):
        env.pop(name, None)  # the package itself must set these
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(report.read_text()), done


def test_the_guard_catches_a_real_attempt(tmp_path: Path) -> None:
    attempts, _ = run_guarded(
        """
        import urllib.request
        try:
            urllib.request.urlopen("https://pypi.org", timeout=5)
        except OSError:
            pass
        """,
        tmp_path,
    )
    assert attempts == ["resolve 'pypi.org'"]


def test_the_guard_catches_every_lookup_and_connect_call(tmp_path: Path) -> None:
    attempts, _ = run_guarded(
        """
        import socket
        calls = [
            lambda: socket.gethostbyname("pypi.org"),
            lambda: socket.gethostbyname_ex("files.pythonhosted.org"),
            lambda: socket.gethostbyaddr("8.8.8.8"),
            lambda: socket.create_connection(("1.1.1.1", 443), timeout=5),
            lambda: socket.socket().connect_ex(("9.9.9.9", 53)),
        ]
        for call in calls:
            try:
                call()
            except OSError:
                pass
        socket.gethostbyname("localhost")
        """,
        tmp_path,
    )
    assert attempts == [
        "resolve 'pypi.org'",
        "resolve 'files.pythonhosted.org'",
        "resolve '8.8.8.8'",
        "connect ('1.1.1.1', 443)",
        "connect ('9.9.9.9', 53)",
    ]


#: A child that says whether it is guarded, then looks a name up (and fails: exit code 1).
CHILD = "import socket, sys; print('network_guard' in sys.modules); socket.gethostbyname('x.org')"


def test_the_guard_reaches_child_processes(tmp_path: Path) -> None:
    attempts, done = run_guarded(
        f"""
        import subprocess, sys
        child = subprocess.run([sys.executable, "-c", {CHILD!r}], capture_output=True, text=True)
        print(child.stdout.strip(), child.returncode)
        """,
        tmp_path,
    )
    assert done.stdout.split() == ["True", "1"]
    assert attempts == ["resolve 'x.org'"]


def test_importing_the_package_is_light_and_offline(tmp_path: Path) -> None:
    attempts, done = run_guarded(
        """
        import subprocess
        import sys
        import al_object_detection
        from al_object_detection import states, strategies, daemon
        heavy = ("torch", "fiftyone", "ultralytics", "transformers", "sklearn")
        print(sorted(m for m in heavy if m in sys.modules))
        cli = [sys.executable, "-m", "al_object_detection.cli", "--help"]
        subprocess.run(cli, check=True, capture_output=True)  # a guarded child, too
        """,
        tmp_path,
    )
    assert attempts == []
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_predict_and_train_make_no_network_attempt(tmp_path: Path, shapes_dir: Path) -> None:
    attempts, done = run_guarded(
        """
        import sys
        from pathlib import Path
        import torch
        from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
        from al_object_detection.adapters.detection.config import parse_yolo_config

        data, work = Path(sys.argv[1]), Path(sys.argv[2])
        config = parse_yolo_config({
            "train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": True},
            "predict": {"imgsz": 64},
        })
        detector = YOLOv8_ALObjectDetector("yolov8n.yaml", config, work_dir=work)
        detector.train(data / "data.yaml", round_index=0)
        images = sorted(str(p) for p in data.rglob("*.png"))[:4]
        print(len(list(detector.predict(images, progress=False))))
        print(torch.get_num_threads())
        print("ray.tune" in sys.modules)  # Ray (the [ray] extra) is no tuner of our training
        """,
        tmp_path,
        str(shapes_dir),
        str(tmp_path / "det"),
    )
    assert attempts == []
    predicted, threads, tune_loaded = done.stdout.split()[-3:]
    assert predicted == "4"
    assert int(threads) == len(os.sched_getaffinity(0))
    assert tune_loaded == "False"
