"""The ``[stop] min_gain`` rule: stop when the next round is predicted to add too little.

The learning curve (mAP50-95 against labeled images, one point per evaluated round) is fitted
with a saturating power law; the gain predicted for one more round of the same size is
compared with ``min_gain``, per round or per 1,000 s of annotation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from al_object_detection.report.saturation import GainForecast, forecast_gain
from al_object_detection.report.timing import annotation_time
from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore

PER_ROUND, PER_1000_S = "round", "1000s"
GAIN_UNITS = (PER_ROUND, PER_1000_S)
#: evaluated rounds the rule waits for: fewer points say nothing about saturation
MIN_ROUNDS = 3


@dataclass(frozen=True)
class CurvePoint:
    """One evaluated round: labeled images, mAP50-95, and the round's annotation seconds."""

    labeled: float
    map50_95: float
    seconds: float | None = None


@dataclass(frozen=True)
class StopDecision:
    """Whether to stop, why, and the forecast behind it (None when there was none)."""

    stop: bool
    reason: str
    forecast: GainForecast | None
    gain: float | None = None  # in the rule's unit (per round or per 1,000 s)


def decide(
    points: Sequence[CurvePoint], *, min_gain: float, per: str = PER_ROUND, next_images: float
) -> StopDecision:
    """Apply the rule to the rounds so far; ``next_images`` is the next round's size."""
    if per not in GAIN_UNITS:
        raise ValueError(f"gain unit {per!r}; allowed: {', '.join(GAIN_UNITS)}")
    usable = [p for p in points if p.labeled > 0]
    if len(usable) < MIN_ROUNDS:
        return StopDecision(False, f"{len(usable)} evaluated rounds, the fit needs {MIN_ROUNDS}",
                            None)  # fmt: skip
    n = [p.labeled for p in usable]
    try:
        forecast = forecast_gain([(n, [p.map50_95 for p in usable])], next_images)
    except (RuntimeError, ValueError) as error:  # no convergence, or all at one label count
        return StopDecision(False, f"the learning curve could not be fitted: {error}", None)
    gain, unit = forecast.gain, "per round"
    if per == PER_1000_S:
        per_image = _seconds_per_image(usable)
        if per_image is None:
            return StopDecision(False, "no annotation time recorded yet", forecast)
        gain, unit = forecast.gain / (per_image * next_images / 1000.0), "per 1,000 s"
    verdict = "below" if gain < min_gain else "not below"
    reason = f"predicted gain {gain:+.4f} {unit} is {verdict} min_gain {min_gain:g}: "
    return StopDecision(gain < min_gain, reason + forecast.describe(), forecast, gain)


def _seconds_per_image(points: Sequence[CurvePoint]) -> float | None:
    """Annotation seconds per image over the timed rounds after the first (or all of them)."""
    counts = [p.labeled for p in points]
    added = [counts[0]] + [b - a for a, b in itertools.pairwise(counts)]
    timed = [(p.seconds, n) for p, n in zip(points, added, strict=True) if p.seconds and n > 0]
    recent = timed[1:] or timed
    if not recent:
        return None
    return sum(s for s, _ in recent) / sum(n for _, n in recent)


def curve_points(rounds: RoundStore, up_to: int | None = None) -> list[CurvePoint]:
    """One point per completed round with metrics (up to round ``up_to``): labeled images,
    mAP50-95, annotation time.
    """
    points = []
    for r in rounds.rounds():
        if up_to is not None and r.round > up_to:
            break
        metrics = r.metrics or {}
        labeled, accuracy = metrics.get("labeled"), metrics.get("map50_95")
        if r.state != m.COMPLETED or labeled is None or accuracy is None:
            continue
        if not math.isfinite(float(accuracy)):
            continue
        timing = annotation_time(rounds, r.round)
        seconds = None if timing is None else timing.seconds
        points.append(CurvePoint(float(labeled), float(accuracy), seconds))
    return points


def next_round_images(points: Sequence[CurvePoint], budget_images: int | None) -> float:
    """The next round's size in images: the image budget, else what the last round added."""
    if budget_images:
        return float(budget_images)
    if len(points) >= 2:
        return max(1.0, points[-1].labeled - points[-2].labeled)
    return 1.0
