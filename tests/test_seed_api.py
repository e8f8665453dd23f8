"""The original module's README usage, run exactly as written; only data and model are set up.

``support/seed_readme/`` holds the README's three code blocks verbatim, with the seed's own
import paths. The default annotator is CVAT, configured by a ``.env`` file as that README says;
it points at the CVAT-protocol server of the annotation tests on 127.0.0.1 (CVAT itself cannot
run here), where a scripted human labels the batch. The run is SIGKILLed mid-round, while it
waits for those labels; the README's resume line (a ``.pkl`` path) then says which file to pass,
and the line it advises resumes the round and finishes the run.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.data.yolo import read_yolo
from tests.adapters.annotation.cvat_human import CvatHuman
from tests.adapters.annotation.fake_cvat import FakeCvat

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SEED = Path(__file__).parent / "support" / "seed_readme"
DATASET = "MY_DATASET"  # the README's name
STATE = Path("cache") / f"{DATASET}_al_state.sqlite"
BOT, HUMAN, PASSWORD = "alod-bot", "annotator1", "seed-Pass-123"


@dataclass
class SeedCheckout:
    """A folder laid out like the seed's checkout, and the CVAT server its ``.env`` names."""

    root: Path
    cvat: FakeCvat

    def run(self, code: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", code], cwd=self.root, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip


@pytest.fixture
def checkout(
    tmp_path: Path, shapes_dir: Path, tiny_weights: Path, fo: Any, monkeypatch: Any
) -> Iterator[SeedCheckout]:
    if fo.dataset_exists(DATASET):
        fo.delete_dataset(DATASET)
    FiftyOneStore.open(DATASET, create=True).add(read_yolo(shapes_dir))
    shutil.copyfile(tiny_weights, tmp_path / "yolov8l.pt")
    config = tmp_path / "al_object_detection" / "config" / "yolo_config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[train]\nepochs = 1\nimgsz = 64\nbatch = 8\nworkers = 0\nplots = false\n"
        "[predict]\nimgsz = 64\nconf = 0.001\nmax_det = 10\n"
    )
    cvat = FakeCvat().start()
    cvat.add_user(BOT, PASSWORD)
    cvat.add_user(HUMAN, PASSWORD)
    (tmp_path / ".env").write_text(
        f"FIFTYONE_CVAT_USERNAME={BOT}\nFIFTYONE_CVAT_PASSWORD={PASSWORD}\n"
        f"FIFTYONE_CVAT_URL={cvat.url}\n"
    )
    for name in ("FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_USERNAME", "FIFTYONE_CVAT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    yield SeedCheckout(tmp_path, cvat)
    cvat.stop()
    if fo.dataset_exists(DATASET):
        fo.delete_dataset(DATASET)


def wait_for_the_batch(child: subprocess.Popen[str], state: Path, timeout_s: float) -> None:
    """Until the run has recorded its annotation batch (it then waits for the humans)."""
    deadline = time.monotonic() + timeout_s  # bounds a hung run only
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise AssertionError(f"the run ended by itself:\n{child.communicate()[1][-3000:]}")
        if batches_recorded(state):
            return
        time.sleep(0.2)
    raise AssertionError(f"no annotation batch recorded within {timeout_s:.0f}s")


def batches_recorded(state: Path) -> int:
    if not state.exists():
        return 0
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=30)
    try:
        query = "SELECT COUNT(*) FROM intents WHERE kind = 'annotate' AND result IS NOT NULL"
        return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:  # the tables are not there yet
        return 0
    finally:
        db.close()


def label_every_job(cvat: FakeCvat) -> None:
    """The scripted human keeps the pre-labels, draws a square on each image, finishes."""
    human = CvatHuman(cvat.url, HUMAN, PASSWORD)
    for task in human.tasks():
        for job in human.jobs(task["id"]):
            human.set_job(job["id"], assignee=cvat.users[HUMAN]["id"], state="in progress")
            human.annotate(job["id"], lambda name, w, h: [("square", [1.0, 1.0, w / 2, h / 2])])
            human.set_job(job["id"], state="completed")


def test_the_seed_usage_runs_as_written_and_resumes_after_a_kill(
    checkout: SeedCheckout, fo: Any
) -> None:
    usage = (SEED / "usage.txt").read_text()
    imports = "".join(line for line in usage.splitlines(True) if " import " in line)
    resume = imports + (SEED / "resume.txt").read_text()  # a new process imports the learner
    pool = FiftyOneStore.open(DATASET).ids("pool")
    run = checkout.run(usage)
    wait_for_the_batch(run, checkout.root / STATE, timeout_s=300)
    run.kill()
    assert run.wait() == -signal.SIGKILL
    db = sqlite3.connect(checkout.root / STATE)
    assert db.execute("SELECT round, state FROM rounds").fetchall() == [(0, "annotating")]
    db.close()
    label_every_job(checkout.cvat)

    as_written = checkout.run(resume)
    _, error = as_written.communicate(timeout=120)
    assert as_written.returncode == 1
    assert f"pass from_cache('{STATE}') (it is there)" in error, error[-2000:]

    advised = checkout.run(resume.replace("_al_state.pkl", "_al_state.sqlite"))
    _, error = advised.communicate(timeout=300)
    assert advised.returncode == 0, error[-3000:]
    db = sqlite3.connect(checkout.root / STATE)
    assert db.execute("SELECT round, state FROM rounds").fetchall() == [(0, "completed")]
    db.close()
    assert len(checkout.cvat.tasks) == 1  # the kill made no second batch
    labeled = fo.load_dataset(DATASET).match({"al_split": "labeled"})
    assert sorted(labeled.values("id")) == sorted(pool)  # the default budget (32) took them all
    assert "square" in labeled.distinct("ground_truth.detections.label")


def test_the_seed_zero_shot_imports_name_the_real_classes() -> None:
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
    from al_object_detection.initializer import ZeroShotModelInitializer
    from al_object_detection.strategies import RandomSampler

    text = (SEED / "zero_shot.txt").read_text()
    imports = [line for line in text.splitlines() if " import " in line]
    names: dict[str, Any] = {}
    exec("\n".join(imports), names)  # the README's own import lines
    assert names["ZeroShot_ALObjectDetector"] is ZeroShot_ALObjectDetector
    assert names["ZeroShotModelInitializer"] is ZeroShotModelInitializer
    assert names["YOLOv8_ALObjectDetector"] is YOLOv8_ALObjectDetector
    assert names["RandomSampler"] is RandomSampler


def test_without_an_annotator_the_default_cvat_says_it_is_not_configured(
    checkout: SeedCheckout, fo: Any, monkeypatch: Any
) -> None:
    from al_object_detection.active_learner.object_detection_active_learner import (
        ObjectDetectionActiveLearner,
    )
    from al_object_detection.object_detectors.yolov8_al_object_detector import (
        YOLOv8_ALObjectDetector,
    )

    monkeypatch.chdir(checkout.root)
    (checkout.root / ".env").unlink()
    predictor = YOLOv8_ALObjectDetector(
        model_path="./yolov8l.pt", model_config="./al_object_detection/config/yolo_config.toml"
    )
    with pytest.raises(Exception, match="FIFTYONE_CVAT") as raised:
        ObjectDetectionActiveLearner(fo.load_dataset(DATASET), predictor=predictor)
    assert "prompt" not in str(raised.value).lower()
