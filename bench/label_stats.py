"""Statistics for the label-efficiency benchmark, from its machine-readable rows.

A row is one (arm, seed, round) of one run: ``labeled_images``, ``labeled_boxes``, ``map50``,
``map50_95``, ``per_class`` ({class: {"ap50", "ap50_95"}}) and ``replicate`` (0 when absent).
Replicates are the same seeds run again from scratch: training is not bit-exact, so a strategy's
later picks (and its score) can differ between runs of one seed. A seed's figure is the mean of
its replicates; its difference against random pairs each run with random's run of the same
replicate (they share round 0) where there is one, and is averaged over them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

BOOTSTRAP_DRAWS = 10_000
INTERVAL = 0.90

Row = dict[str, Any]


def by_arm_round(rows: Sequence[Row]) -> dict[str, dict[int, dict[int, list[Row]]]]:
    """``arm -> round -> seed -> rows`` (one row per replicate)."""
    out: dict[str, dict[int, dict[int, list[Row]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for row in rows:
        out[row["arm"]][row["round"]][row["seed"]].append(row)
    return out


def run_of(row: Row) -> int:
    """The run a row belongs to (rows written before replicates existed: 0)."""
    return int(row.get("replicate", 0))


def seed_mean(rows: Sequence[Row], key: str) -> float:
    """One seed's figure: the mean over its replicates."""
    return float(np.mean([r[key] for r in rows]))


def seed_difference(rows: Sequence[Row], random: Sequence[Row], key: str = "map50_95") -> float:
    """One seed's ``key`` minus random's: run by run where replicates match, else seed means."""
    by_run = {run_of(r): r[key] for r in random}
    matched = [r[key] - by_run[run_of(r)] for r in rows if run_of(r) in by_run]
    if matched:
        return float(np.mean(matched))
    return seed_mean(rows, key) - seed_mean(random, key)


def paired_interval(differences: Sequence[float], *, seed: int = 0) -> tuple[float, float, float]:
    """Mean of per-seed differences and its 90 % bootstrap interval (percentile method)."""
    d = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(len(d), size=(BOOTSTRAP_DRAWS, len(d)))].mean(axis=1)
    tail = (1 - INTERVAL) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(d.mean()), float(low), float(high)


def labels_to_reach(curve: Sequence[tuple[float, float]], target: float) -> float | None:
    """Labels (x) at which the piecewise-linear curve of (labels, score) first reaches target."""
    for i, (x, y) in enumerate(curve):
        if y >= target:
            if i == 0:
                return float(x)
            x0, y0 = curve[i - 1]
            return float(x0 + (target - y0) * (x - x0) / max(y - y0, 1e-12))
    return None


def summary(rows: Sequence[Row], rare_classes: Sequence[str]) -> dict[str, Any]:
    """Per arm and round: means, spreads, paired differences vs random, rare-class AP."""
    table = by_arm_round(rows)
    random = table.get("random", {})
    out: dict[str, Any] = {}
    for arm, rounds in table.items():
        arm_rows = []
        for rnd in sorted(rounds):
            seeds = rounds[rnd]
            vals = {
                key: np.array([seed_mean(seeds[s], key) for s in sorted(seeds)])
                for key in ("labeled_images", "labeled_boxes", "map50", "map50_95")
            }
            runs = [r for s in sorted(seeds) for r in seeds[s]]
            row: dict[str, Any] = {"round": rnd, "seeds": len(seeds), "runs": len(runs)}
            for key, v in vals.items():
                row[key], row[f"{key}_std"] = float(v.mean()), float(v.std())
            row["rare_ap50_95"] = {name: _mean_ap(runs, name) for name in rare_classes}
            common = sorted(set(seeds) & set(random.get(rnd, {})))
            if arm != "random" and len(common) >= 2:
                diffs = [seed_difference(seeds[s], random[rnd][s]) for s in common]
                mean, low, high = paired_interval(diffs)
                row["vs_random_map50_95"] = {
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": len(common),
                }
            arm_rows.append(row)
        out[arm] = arm_rows
    if "random" in out:
        final = out["random"][-1]
        for arm, arm_rows in out.items():
            out[arm] = arm_rows
            for unit in ("images", "boxes"):
                curve = [(r[f"labeled_{unit}"], r["map50_95"]) for r in arm_rows]
                needed = labels_to_reach(curve, final["map50_95"])
                share = None if needed is None else needed / final[f"labeled_{unit}"]
                arm_rows[-1][f"to_reach_random_final_{unit}"] = {"labels": needed, "share": share}
    return out


def _mean_ap(rows: Any, name: str) -> float | None:
    values = [r["per_class"].get(name, {}).get("ap50_95") for r in rows]
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def format_table(stats: dict[str, Any], rare_classes: Sequence[str]) -> str:
    """A text table: one line per arm and round."""
    lines = [
        "arm            rnd  seeds/runs  images  boxes   mAP50         mAP50-95      "
        "vs random (90% CI)" + "".join(f"  {c[:10]:>10}" for c in rare_classes)
    ]
    for arm, rows in stats.items():
        for r in rows:
            vs = r.get("vs_random_map50_95")
            diff = (
                f"{100 * vs['mean']:+5.1f} [{100 * vs['low']:+5.1f},{100 * vs['high']:+5.1f}]"
                if vs
                else " " * 19
            )
            rare = "".join(
                f"  {v:10.3f}" if v is not None else f"  {'-':>10}"
                for v in r["rare_ap50_95"].values()
            )
            n = f"{r['seeds']}/{r['runs']}"
            head = f"{arm:<14} {r['round']:>3}  {n:>10}  {r['labeled_images']:>6.0f}"
            maps = "   ".join(f"{r[k]:.3f}±{r[k + '_std']:.3f}" for k in ("map50", "map50_95"))
            lines.append(f"{head}  {r['labeled_boxes']:>5.0f}   {maps}   {diff}{rare}")
    for arm, rows in stats.items():
        last = rows[-1]
        for unit in ("images", "boxes"):
            reach = last.get(f"to_reach_random_final_{unit}")
            if reach is None:
                continue
            text = (
                "not reached"
                if reach["labels"] is None
                else f"{reach['labels']:.0f} ({reach['share']:.0%} of random's)"
            )
            lines.append(f"{arm}: {unit} to reach random's final mAP50-95: {text}")
    return "\n".join(lines)
