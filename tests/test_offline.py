"""The offline guarantee: importing, predicting and training never reach for the network."""

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
    """Run ``script`` in a child whose non-loopback connections fail; return the attempts."""
    report = tmp_path / "attempts.json"
    env = {
        **os.environ,
        "NETWORK_GUARD_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path]),
        "ALOD_STATE_DIR": str(tmp_path / "state"),
    }
    for name in ("YOLO_OFFLINE", "HF_HUB_OFFLINE", "YOLO_CONFIG_DIR", "OMP_NUM_THREADS"):
        env.pop(name, None)  # the package itself must set these
    code = "import network_guard\n" + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
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


def test_importing_the_package_is_light_and_offline(tmp_path: Path) -> None:
    attempts, done = run_guarded(
        """
        import sys
        import al_object_detection
        from al_object_detection import states, strategies, daemon
        heavy = ("torch", "fiftyone", "ultralytics", "transformers", "sklearn")
        print(sorted(m for m in heavy if m in sys.modules))
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
        from al_object_detection.adapters.ultralytics_detector import YOLOv8_ALObjectDetector
        from al_object_detection.adapters.yolo_config import parse_yolo_config

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
        """,
        tmp_path,
        str(shapes_dir),
        str(tmp_path / "det"),
    )
    assert attempts == []
    predicted, threads = done.stdout.split()[-2:]
    assert predicted == "4"
    assert int(threads) == len(os.sched_getaffinity(0))
