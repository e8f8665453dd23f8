"""How well the ``[stop] min_gain`` rule predicts what the next round adds, on recorded curves.

    python bench/stop_rule.py [bench/results/label_efficiency-<dataset>.json ...]

For every recorded learning curve (one arm, one seed, one replicate) and every round k >= 2,
the rule's power law is fitted on rounds 0..k-1 and predicts the gain of round k; the error
against what round k actually gave is averaged (mean absolute error, mAP50-95). The same is
done with the seeds of an arm pooled (the fit the rule makes from several curves), and for a
baseline measured in the same run: "the last round's gain repeats". "80% cover" is how often
the actual gain fell inside the rule's interval; that interval is for the expected gain, so one
noisy round falls outside it more often. Without result files, the 3-seed table recorded by the
label-efficiency benchmark (means over seeds) is used.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from al_object_detection.report.saturation import forecast_gain

RESULTS = Path(__file__).resolve().parent / "results"
#: ``bench/label_efficiency.py --profile quick``, 3 seeds: labeled images -> mean mAP50-95
RECORDED_MEANS = {
    "random": {16: 0.005, 32: 0.012, 48: 0.055},
    "entropy": {16: 0.005, 32: 0.014, 48: 0.048},
    "hybrid": {16: 0.005, 32: 0.009, 48: 0.041},
}
Curve = tuple[list[float], list[float]]


def load_curves(paths: Sequence[Path]) -> dict[str, list[Curve]]:
    """Curves per arm (one per seed and replicate) from result files, or the recorded table."""
    if not paths:
        return {
            arm: [(list(map(float, points)), list(points.values()))]
            for arm, points in RECORDED_MEANS.items()
        }
    rows: dict[tuple[str, str, int, int], list[tuple[int, float, float]]] = defaultdict(list)
    for path in paths:
        for row in json.loads(path.read_text())["rows"]:
            key = (path.stem, row["arm"], int(row["seed"]), int(row.get("replicate", 0)))
            rows[key].append((row["round"], row["labeled_images"], row["map50_95"]))
    curves: dict[str, list[Curve]] = defaultdict(list)
    for (dataset, arm, _, _), points in sorted(rows.items()):
        points.sort()
        curves[f"{dataset}:{arm}"].append(([p[1] for p in points], [p[2] for p in points]))
    return dict(curves)


def errors(curves: list[Curve], pooled: bool) -> tuple[list[float], list[float], list[bool]]:
    """Absolute errors of the rule and of the baseline, and whether the interval held the truth."""
    rule, baseline, covered = [], [], []
    groups = [curves] if pooled else [[c] for c in curves]
    for group in groups:
        rounds = min(len(n) for n, _ in group)
        for k in range(2, rounds):
            seen = [(n[:k], y[:k]) for n, y in group]
            step = float(np.mean([n[k] - n[k - 1] for n, _ in group]))
            actual = float(np.mean([y[k] - y[k - 1] for _, y in group]))
            last = float(np.mean([y[k - 1] - y[k - 2] for _, y in group]))
            forecast = forecast_gain(seen, step, n_boot=200)
            rule.append(abs(forecast.gain - actual))
            baseline.append(abs(last - actual))
            covered.append(forecast.low <= actual <= forecast.high)
    return rule, baseline, covered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path, help="label-efficiency result files")
    args = parser.parse_args()
    paths = args.results or sorted(RESULTS.glob("label_efficiency-*.json"))
    curves = load_curves(paths)
    source = ", ".join(map(str, paths)) or "the recorded 3-seed table (means)"
    print(f"curves from {source}")
    print(f"{'curves':<40} {'fit':<12} {'n':>3} {'rule MAE':>9} {'last-gain MAE':>14} "
          f"{'ratio':>6} {'80% cover':>9}")  # fmt: skip
    totals: dict[str, tuple[list[float], list[float], list[bool]]] = {}
    for arm, arm_curves in curves.items():
        for pooled in (False, True) if len(arm_curves) > 1 else (False,):
            how = "seeds pooled" if pooled else "per curve"
            rule, base, covered = errors(arm_curves, pooled)
            if not rule:
                continue
            rule_total, base_total, covered_total = totals.setdefault(how, ([], [], []))
            rule_total.extend(rule)
            base_total.extend(base)
            covered_total.extend(covered)
            _line(arm, how, rule, base, covered)
    for how, (rule, base, covered) in totals.items():
        _line("all", how, rule, base, covered)


def _line(name: str, how: str, rule: list[float], base: list[float], covered: list[bool]) -> None:
    mae, base_mae = float(np.mean(rule)), float(np.mean(base))
    ratio = mae / base_mae if base_mae > 0 else float("nan")
    print(f"{name:<40} {how:<12} {len(rule):>3} {mae:>9.4f} {base_mae:>14.4f} {ratio:>6.2f} "
          f"{np.mean(covered):>9.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
