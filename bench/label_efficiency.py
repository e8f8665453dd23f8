"""Label efficiency: random vs entropy-only vs the default hybrid, same pool, start set, budgets.

For each seed, round 0 (a random start set, fine-tuned once) is shared by the three arms;
each arm then runs its rounds with the oracle annotator. Prints mAP50 and mAP50-95 per
budget (mean ± std over seeds), the fraction of labels the hybrid needs to reach random's
final mAP50-95 (linear interpolation on the hybrid's curve), and writes the learning curve.

    python bench/label_efficiency.py --profile quick   # 2 CPU cores, under an hour
    python bench/label_efficiency.py --profile full    # a GPU: more rounds, epochs, seeds
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from al_object_detection.experiment import Experiment, ExperimentSettings, curve, plot_curves
from al_object_detection.offline import activate

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"seeds": 3, "rounds": 2, "start": 16, "budget": 16, "epochs": 5, "imgsz": 256},
    "full": {"seeds": 5, "rounds": 5, "start": 16, "budget": 16, "epochs": 30, "imgsz": 320},
}
ARMS: dict[str, Any] = {
    "random": {"name": "random"},
    "entropy": {"name": "uncertainty", "method": "binary_entropy", "aggregation": "mean"},
    "hybrid": None,  # the project's default strategy
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--workdir", type=Path, default=Path("bench-runs/label_efficiency"))
    parser.add_argument("--wheel-cache", type=Path, default=None)
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    workdir = args.workdir.resolve()
    activate(workdir / "state")
    from al_object_detection.adapters.fiftyone_store import import_fiftyone
    from al_object_detection.project import DEFAULT_STRATEGY
    from al_object_detection.strategies import build_sampler

    fo = import_fiftyone(workdir / "fiftyone-db")
    began = time.monotonic()
    runs: dict[str, list[list[dict[str, Any]]]] = {arm: [] for arm in ARMS}
    for seed in range(profile["seeds"]):
        settings = ExperimentSettings(
            workdir=workdir / f"seed_{seed}",
            rounds=profile["rounds"],
            start=profile["start"],
            budget=profile["budget"],
            epochs=profile["epochs"],
            imgsz=profile["imgsz"],
            seed=seed,
            wheel_cache=args.wheel_cache,
        )
        experiment = Experiment(settings, fo, name=f"alod-bench-{seed}")
        experiment.prepare()
        experiment.run_start()
        for arm, spec in ARMS.items():
            sampler = build_sampler(spec or DEFAULT_STRATEGY)
            runs[arm].append(curve(experiment.run_arm(arm, sampler)))
            print(f"seed {seed} {arm}: {[round(r['map50_95'], 3) for r in runs[arm][-1]]}")
    summary = {arm: _mean_curve(seed_curves) for arm, seed_curves in runs.items()}
    _print_table(summary)
    need = _fraction_needed(summary["hybrid"], summary["random"][-1])
    print(f"\nlabels the hybrid needs to reach random's final mAP50-95: {need}")
    gaps = [
        100 * (h["map50"] - r["map50"])
        for h, r in zip(summary["hybrid"][1:3], summary["random"][1:3], strict=False)
    ]
    print(f"hybrid - random mAP50 at the first two budgets: {[f'{g:+.1f} pts' for g in gaps]}")
    print(f"{args.profile} profile: {(time.monotonic() - began) / 60:.1f} min")
    (workdir / "label_efficiency.json").write_text(json.dumps({"runs": runs, "summary": summary}))
    png = plot_curves(summary, workdir / "label_efficiency.png", title="label efficiency")
    print(f"learning curve: {png}")


def _mean_curve(seed_curves: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for step in zip(*seed_curves, strict=True):
        row: dict[str, Any] = {"round": step[0]["round"], "labeled": step[0]["labeled"]}
        for metric in ("map50", "map50_95"):
            values = np.array([r[metric] for r in step], dtype=float)
            row[metric], row[f"{metric}_std"] = float(values.mean()), float(values.std())
        rows.append(row)
    return rows


def _print_table(summary: dict[str, list[dict[str, Any]]]) -> None:
    print("\narm      labeled   mAP50 (mean ± std)   mAP50-95 (mean ± std)")
    for arm, rows in summary.items():
        for r in rows:
            print(
                f"{arm:<8} {r['labeled']:>7}   {r['map50']:.3f} ± {r['map50_std']:.3f}"
                f"        {r['map50_95']:.3f} ± {r['map50_95_std']:.3f}"
            )


def _fraction_needed(hybrid: list[dict[str, Any]], target: dict[str, Any]) -> str:
    labeled = [r["labeled"] for r in hybrid]
    scores = [r["map50_95"] for r in hybrid]
    for i, score in enumerate(scores):
        if score >= target["map50_95"]:
            if i == 0:
                needed = float(labeled[0])
            else:
                x0, x1, y0, y1 = labeled[i - 1], labeled[i], scores[i - 1], score
                needed = x0 + (target["map50_95"] - y0) * (x1 - x0) / max(y1 - y0, 1e-9)
            return f"{needed:.0f} of {target['labeled']} ({needed / target['labeled']:.0%})"
    return f"not reached within {labeled[-1]} labels (target {target['map50_95']:.3f})"


if __name__ == "__main__":
    main()
