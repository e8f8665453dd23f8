"""The engine on a tiny real project: FiftyOne, ultralytics, the oracle, a real state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from al_object_detection.adapters.annotation.oracle import OracleAnnotator
from al_object_detection.adapters.dataset.store import FiftyOneStore
from al_object_detection.adapters.detection.config import parse_yolo_config
from al_object_detection.adapters.detection.yolo import DetectorError, YOLOv8_ALObjectDetector
from al_object_detection.data.yolo import read_yolo
from al_object_detection.learner import ObjectDetectionActiveLearner
from al_object_detection.states import machine as m
from al_object_detection.states.engine import RoundFailed
from al_object_detection.strategies import RandomSampler

pytestmark = pytest.mark.integration

TINY = {
    "train": {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "device": "cpu"},
    "predict": {"imgsz": 64, "conf": 0.001, "max_det": 10, "device": "cpu"},
}


@pytest.fixture
def store(dataset_name: str, shapes_dir: Path) -> FiftyOneStore:
    store = FiftyOneStore.open(dataset_name, create=True)
    store.add(read_yolo(shapes_dir))
    return store


def learner(store: FiftyOneStore, tmp_path: Path, **kwargs: Any) -> ObjectDetectionActiveLearner:
    detector = YOLOv8_ALObjectDetector(
        "yolov8n.yaml", parse_yolo_config(TINY), work_dir=tmp_path / "detector"
    )
    options = {"budget": 4, "rounds": 1, "bootstrap_size": 6, "poll_interval_s": 0, "log": print}
    return ObjectDetectionActiveLearner(
        store, detector, kwargs.pop("sampler", None), OracleAnnotator(store),
        state_path=tmp_path / "state.sqlite", workdir=tmp_path / "work", **{**options, **kwargs},
    )  # fmt: skip


@pytest.mark.slow
def test_rounds_run_to_completion_with_the_bootstrap_path(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    al = learner(store, tmp_path)
    rounds = al.run_active_learning()
    assert [r.state for r in rounds] == [m.COMPLETED, m.COMPLETED]
    assert store.counts()["labeled"] == 10
    path0 = [t.to_state for t in al.rounds.transitions(0)]
    assert path0 == [
        m.PENDING,
        m.SAMPLING,
        m.ANNOTATING,
        m.IMPORTING,
        m.TRAINING,
        m.EVALUATING,
        m.COMPLETED,
    ]
    path1 = [t.to_state for t in al.rounds.transitions(1)]
    assert path1[:3] == [m.PENDING, m.PREDICTING, m.SAMPLING]
    assert rounds[1].metrics is not None
    assert set(rounds[1].metrics) >= {"map50", "map50_95", "labeled", "per_class"}
    assert rounds[1].model_path is not None
    assert rounds[1].model_path.endswith("round_001.pt")
    # round 1 predicted with round 0's model on the pool and the labeled set (embeddings);
    # evaluation predicted the validation split with round 1's model
    train_side = store.dataset.match({"al_split": {"$ne": "val"}})
    assert set(train_side.values("prediction_model")) == {rounds[0].model_path}
    assert set(store.dataset.match({"al_split": "val"}).values("prediction_model")) == {
        rounds[1].model_path
    }


@pytest.mark.slow
def test_random_picks_run_no_pool_prediction(store: FiftyOneStore, tmp_path: Path) -> None:
    al = learner(store, tmp_path, sampler=RandomSampler())
    rounds = al.run_active_learning()
    assert [r.state for r in rounds] == [m.COMPLETED, m.COMPLETED]
    assert store.counts()["labeled"] == 10
    path1 = [t.to_state for t in al.rounds.transitions(1)]
    assert path1[:3] == [m.PENDING, m.PREDICTING, m.SAMPLING]
    pool = store.dataset.match({"al_split": "pool"})
    assert set(pool.values("prediction_model")) == {None}  # the pool was never predicted
    picked1 = store.dataset.match({"al_round": 1})
    assert len(picked1) == 4
    assert None not in picked1.values("prediction_model")  # the picks were, for pre-labels


@pytest.mark.slow
def test_from_cache_resumes_and_a_finished_run_stays_finished(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    learner(store, tmp_path, rounds=0).run_active_learning()
    resumed = ObjectDetectionActiveLearner.from_cache(
        tmp_path / "state.sqlite", annotator=OracleAnnotator(store)
    )
    assert [r.state for r in resumed.run_active_learning()] == [m.COMPLETED]
    assert store.counts()["labeled"] == 6


def test_a_crashing_training_run_is_recorded_then_retried_then_given_up(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    al = learner(store, tmp_path, sampler=RandomSampler())

    def broken_train(*_: Any, **__: Any) -> Any:
        raise DetectorError("loss became NaN")

    al.engine.ctx.detector.train = broken_train  # type: ignore[method-assign]
    with pytest.raises(
        RoundFailed, match="round 0 failed 3 times in training: DetectorError: loss became NaN"
    ):
        al.run_active_learning()
    current = al.rounds.current()
    assert current is not None
    assert (current.state, current.attempt, current.failed_in) == (m.FAILED, 3, m.TRAINING)
    assert store.counts()["labeled"] == 6  # nothing labeled was lost
    retries = [t for t in al.rounds.transitions(0) if t.reason == "automatic retry"]
    assert len(retries) == 2


def test_a_strategy_that_returns_too_few_picks_fails_the_round(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    class Stingy(RandomSampler):
        def choose(self, pool: Any, budget: int, *, rng: Any, taken: Any = None) -> Any:
            return super().choose(pool, 2, rng=rng)

    al = learner(store, tmp_path, sampler=Stingy(), bootstrap="model")
    with pytest.raises(RoundFailed, match="returned 2 picks, 6 were asked"):
        al.run_active_learning()


def test_vanished_samples_fail_the_round_with_the_reason(
    store: FiftyOneStore, tmp_path: Path
) -> None:
    al = learner(store, tmp_path)
    for _ in range(3):  # opened, bootstrap, sampled
        al.engine.step()
    current = al.rounds.current()
    assert current is not None
    assert current.picked
    store.dataset.delete_samples(current.picked[:2])
    result = al.engine.step()
    assert result.trigger == "fail"
    assert "picked samples are no longer in the dataset" in (result.round.last_error or "")


def test_label_budget_caps_the_rounds(store: FiftyOneStore, tmp_path: Path) -> None:
    al = learner(store, tmp_path, rounds=5, label_budget=8, bootstrap_size=6)
    al.engine.step()  # opens round 0
    current = al.rounds.current()
    assert current is not None
    assert current.budget == 6


def test_a_retried_import_reuses_the_submitted_batch(store: FiftyOneStore, tmp_path: Path) -> None:
    al = learner(store, tmp_path)
    oracle = al.engine.ctx.annotator
    fetch, calls = oracle.fetch, []

    def flaky_fetch(handle: str) -> Any:
        calls.append(handle)
        if len(calls) == 1:
            raise ConnectionError("reset by peer")
        return fetch(handle)

    oracle.fetch = flaky_fetch  # type: ignore[method-assign]
    while (al.rounds.current() or al.engine.step().round).state != m.TRAINING:
        al.engine.step()
    log = [(t.from_state, t.to_state) for t in al.rounds.transitions(0)]
    assert (m.IMPORTING, m.FAILED) in log
    assert (m.FAILED, m.IMPORTING) in log
    submitted = [i for i in al.rounds.intents(0) if i["kind"] == "annotate"]
    assert len(submitted) == 1
    assert calls[0] == calls[1]
    assert store.counts()["labeled"] == 6
