"""A saturating power law of accuracy in labels, and what the next round is predicted to add.

``y(n) = a - b * n**(-c)``: ``a`` is the accuracy the curve tends to, ``c`` how fast it gets
there. With fewer than four distinct label counts the exponent is held at ``PRIOR_EXPONENT``
(two parameters from two or three points); from four on all three are fitted. The interval
comes from a bootstrap: over rounds for one curve, over curves (seeds) when several are given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

PRIOR_EXPONENT = 0.5
#: bounds of (a, b, c): accuracy in [0, 1], a rising curve, an exponent that saturates
_LOWER, _UPPER = (0.0, 0.0, 0.05), (1.0, 1e3, 3.0)
Curve = tuple[ArrayLike, ArrayLike]


@dataclass(frozen=True)
class PowerLaw:
    """``y(n) = a - b * n**(-c)``."""

    a: float
    b: float
    c: float

    def __call__(self, n: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(self.a - self.b * np.power(np.asarray(n, dtype=np.float64), -self.c))

    def describe(self) -> str:
        """E.g. ``"0.412 - 1.3 * n^-0.52"``."""
        return f"{self.a:.3f} - {self.b:.3g} * n^-{self.c:.2f}"


@dataclass(frozen=True)
class GainForecast:
    """What the next round is predicted to add, with a bootstrap interval (10th-90th pct)."""

    law: PowerLaw
    n_last: float
    n_next: float
    gain: float
    low: float
    high: float
    points: int
    exponent_fitted: bool

    def describe(self) -> str:
        """One line for logs and the report."""
        how = "fitted" if self.exponent_fitted else f"held at {PRIOR_EXPONENT}"
        return (
            f"mAP50-95 ~ {self.law.describe()} over {self.points} points (exponent {how}); "
            f"{self.n_last:g} -> {self.n_next:g} labels adds {self.gain:+.4f} "
            f"(80% interval {self.low:+.4f} .. {self.high:+.4f})"
        )


def fit_power_law(n: ArrayLike, y: ArrayLike) -> PowerLaw:
    """Least-squares fit of ``y`` against label counts ``n`` (> 0); needs 2 distinct counts."""
    from scipy.optimize import OptimizeWarning, curve_fit

    xs, ys = _checked(n, y)
    distinct = len(np.unique(xs))
    if distinct < 2:
        raise ValueError("a learning curve needs at least two distinct label counts")
    a0 = float(min(1.0, max(ys.max() + 0.05, 0.05)))
    c0 = PRIOR_EXPONENT
    b0 = float(max((a0 - ys[np.argmin(xs)]) * xs.min() ** c0, 1e-6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        if distinct >= 4:
            params, _ = curve_fit(
                _law, xs, ys, p0=(a0, min(b0, _UPPER[1]), c0), bounds=(_LOWER, _UPPER),
                maxfev=5000,
            )  # fmt: skip
            return PowerLaw(*map(float, params))

        def fixed(x: NDArray[np.float64], a: float, b: float) -> NDArray[np.float64]:
            return _law(x, a, b, c0)

        params, _ = curve_fit(
            fixed, xs, ys, p0=(a0, min(b0, _UPPER[1])), bounds=(_LOWER[:2], _UPPER[:2]),
            maxfev=5000,
        )  # fmt: skip
    return PowerLaw(float(params[0]), float(params[1]), c0)


def forecast_gain(
    curves: Sequence[Curve], step: float, *, n_boot: int = 200, seed: int = 0
) -> GainForecast:
    """Predicted gain from the last label count to ``step`` more labels.

    One curve: the bootstrap resamples its points (rounds); several curves (seeds): it
    resamples whole curves. The point estimate fits every point at once.
    """
    if not curves:
        raise ValueError("no learning curve to fit")
    if step <= 0:
        raise ValueError(f"the next round must add labels, got step {step}")
    checked = [_checked(n, y) for n, y in curves]
    xs = np.concatenate([c[0] for c in checked])
    ys = np.concatenate([c[1] for c in checked])
    law = fit_power_law(xs, ys)
    n_last = float(max(c[0].max() for c in checked))
    n_next = n_last + step
    gain = float(law(n_next) - law(n_last))
    rng = np.random.default_rng(seed)
    gains = [
        g for g in (_resampled_gain(checked, rng, n_last, n_next) for _ in range(n_boot))
        if g is not None
    ]  # fmt: skip
    low, high = np.percentile(gains, [10, 90]).tolist() if gains else (gain, gain)
    return GainForecast(
        law, n_last, n_next, gain, float(low), float(high), len(xs),
        exponent_fitted=len(np.unique(xs)) >= 4,
    )  # fmt: skip


def _resampled_gain(
    curves: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
    rng: np.random.Generator,
    n_last: float,
    n_next: float,
) -> float | None:
    if len(curves) > 1:
        chosen = [curves[i] for i in rng.integers(0, len(curves), len(curves))]
        xs = np.concatenate([c[0] for c in chosen])
        ys = np.concatenate([c[1] for c in chosen])
    else:
        xs, ys = curves[0]
        picks = rng.integers(0, len(xs), len(xs))
        xs, ys = xs[picks], ys[picks]
    if len(np.unique(xs)) < 2:
        return None
    try:
        law = fit_power_law(xs, ys)
    except RuntimeError:  # no convergence on this resample: it says nothing
        return None
    return float(law(n_next) - law(n_last))


def _law(x: NDArray[np.float64], a: float, b: float, c: float) -> NDArray[np.float64]:
    return np.asarray(a - b * np.power(x, -c))


def _checked(n: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xs = np.asarray(n, dtype=np.float64).reshape(-1)
    ys = np.asarray(y, dtype=np.float64).reshape(-1)
    if xs.shape != ys.shape:
        raise ValueError(f"{len(xs)} label counts but {len(ys)} accuracies")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("label counts and accuracies must be finite numbers")
    if np.any(xs <= 0):
        raise ValueError("label counts must be > 0")
    return xs, ys
