"""The [stop] min_gain rule on recorded and synthetic learning curves."""

from __future__ import annotations

import pytest

from al_object_detection.report.stopping import MIN_ROUNDS, PER_1000_S, CurvePoint, decide
from tests.report.curves import RECORDED_3_SEEDS, saturating

LABELS = [16.0, 32.0, 48.0, 64.0, 80.0]


def points(ys: list[float], seconds: float | None = None) -> list[CurvePoint]:
    return [CurvePoint(n, y, seconds) for n, y in zip(LABELS, ys, strict=False)]


def test_a_saturated_curve_stops_and_says_why() -> None:
    decision = decide(points(saturating(LABELS, b=0.5, c=1.5)), min_gain=0.005, next_images=16)
    assert decision.stop
    assert decision.gain is not None
    assert decision.gain < 0.005
    assert "below min_gain 0.005" in decision.reason
    assert "mAP50-95 ~" in decision.reason


def test_a_rising_curve_goes_on() -> None:
    decision = decide(points(saturating(LABELS)), min_gain=0.005, next_images=16)
    assert not decision.stop
    assert "not below" in decision.reason


def test_a_flat_noisy_curve_stops() -> None:
    decision = decide(points([0.30, 0.31, 0.30, 0.305, 0.30]), min_gain=0.002, next_images=16)
    assert decision.stop


def test_the_recorded_random_arm_is_still_rising_at_48_labels() -> None:
    means = [RECORDED_3_SEEDS["random"][n][0] for n in (16, 32, 48)]
    decision = decide(points(means), min_gain=0.005, next_images=16)
    assert not decision.stop
    assert decision.forecast is not None
    assert decision.forecast.n_next == 64


def test_too_few_rounds_never_stop() -> None:
    decision = decide(points([0.3, 0.3]), min_gain=1.0, next_images=16)
    assert not decision.stop
    assert f"needs {MIN_ROUNDS}" in decision.reason


def test_gain_per_1000_seconds_uses_the_recorded_annotation_time() -> None:
    curve = points(saturating(LABELS), seconds=160.0)  # 10 s per image
    per_round = decide(curve, min_gain=0.0, next_images=16)
    per_time = decide(curve, min_gain=0.0, per=PER_1000_S, next_images=16)
    assert per_round.gain is not None
    assert per_time.gain is not None
    # the next 16 images take 160 s: the gain per 1,000 s is 1000/160 times the round's
    assert per_time.gain == pytest.approx(per_round.gain * 1000 / 160)
    untimed = decide(points(saturating(LABELS)), min_gain=1.0, per=PER_1000_S, next_images=16)
    assert not untimed.stop
    assert "no annotation time" in untimed.reason


def test_an_unknown_gain_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: round, 1000s"):
        decide(points(saturating(LABELS)), min_gain=0.1, per="hour", next_images=16)
