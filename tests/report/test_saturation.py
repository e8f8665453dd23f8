"""The power-law fit and its forecast, on exact, noisy, flat and recorded learning curves."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.report.saturation import PRIOR_EXPONENT, fit_power_law, forecast_gain
from tests.report.curves import RECORDED_3_SEEDS, saturating

LABELS = [16.0, 32.0, 48.0, 64.0, 80.0, 96.0, 112.0]


def test_an_exact_curve_gives_back_its_parameters_and_the_true_next_gain() -> None:
    law = fit_power_law(LABELS, saturating(LABELS))
    assert (law.a, law.b, law.c) == pytest.approx((0.45, 1.6, 0.55), rel=1e-3)
    forecast = forecast_gain([(LABELS, saturating(LABELS))], 16, n_boot=50)
    true_gain = saturating([128.0])[0] - saturating([112.0])[0]
    assert forecast.gain == pytest.approx(true_gain, rel=1e-3)
    assert forecast.low <= forecast.gain <= forecast.high
    assert forecast.exponent_fitted


def test_a_noisy_curve_keeps_the_true_gain_inside_a_wider_interval() -> None:
    rng = np.random.default_rng(3)
    noisy = np.array(saturating(LABELS)) + rng.normal(0.0, 0.004, len(LABELS))
    exact = forecast_gain([(LABELS, saturating(LABELS))], 16, n_boot=100)
    forecast = forecast_gain([(LABELS, noisy)], 16, n_boot=100)
    true_gain = saturating([128.0])[0] - saturating([112.0])[0]
    assert forecast.low - 1e-4 <= true_gain <= forecast.high + 1e-4
    assert forecast.high - forecast.low > exact.high - exact.low


def test_a_flat_curve_predicts_no_gain() -> None:
    flat = [0.31, 0.30, 0.31, 0.30, 0.31]
    forecast = forecast_gain([(LABELS[:5], flat)], 16, n_boot=50)
    assert abs(forecast.gain) < 1e-3
    assert forecast.high < 5e-3


def test_a_falling_curve_predicts_no_gain_rather_than_a_loss() -> None:
    falling = [0.30, 0.28, 0.27, 0.25]
    assert forecast_gain([(LABELS[:4], falling)], 16, n_boot=20).gain == pytest.approx(0, abs=1e-6)


def test_three_points_hold_the_exponent_at_the_prior() -> None:
    forecast = forecast_gain([(LABELS[:3], saturating(LABELS[:3]))], 16, n_boot=20)
    assert not forecast.exponent_fitted
    assert forecast.law.c == PRIOR_EXPONENT
    assert forecast.gain > 0


def test_recorded_seeds_give_an_interval_from_resampled_seeds() -> None:
    rng = np.random.default_rng(0)
    curves = []
    for _ in range(3):  # three seeds drawn around the recorded means and spreads
        points = RECORDED_3_SEEDS["random"]
        labels = sorted(points)
        curves.append((labels, [points[n][0] + rng.normal(0, points[n][1]) for n in labels]))
    forecast = forecast_gain(curves, 16, n_boot=100)
    assert forecast.points == 9
    assert forecast.n_last == 48
    assert forecast.n_next == 64
    assert 0 < forecast.gain < 0.2
    assert forecast.low < forecast.high


@pytest.mark.parametrize(
    ("n", "y", "message"),
    [
        ([16, 16], [0.1, 0.2], "two distinct"),
        ([16, 32], [0.1], "label counts but"),
        ([0, 32], [0.1, 0.2], "must be > 0"),
        ([16, 32], [0.1, float("nan")], "finite"),
    ],
)
def test_bad_curves_are_refused_with_a_reason(n: list[float], y: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_power_law(n, y)
