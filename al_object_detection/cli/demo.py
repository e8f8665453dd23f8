"""``alod demo``: an offline active-learning run on the demo data."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_demo_command(parser: argparse.ArgumentParser) -> None:
    """The demo's options: folder, rounds, start set, budget, epochs, seed."""
    parser.add_argument("--workdir", type=Path, default=Path("demo"), help="where everything goes")
    parser.add_argument("--rounds", type=int, default=2, help="rounds after the start set")
    parser.add_argument("--start", type=int, default=24, help="images labeled in round 0")
    parser.add_argument("--budget", type=int, default=24, help="images picked per round")
    parser.add_argument("--epochs", type=int, default=6, help="training epochs per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wheel-cache", type=Path, default=None, help="folder of downloaded wheels"
    )
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from al_object_detection.demo import run_demo
    from al_object_detection.experiment import ExperimentSettings

    settings = ExperimentSettings(
        workdir=args.workdir,
        rounds=args.rounds,
        start=args.start,
        budget=args.budget,
        epochs=args.epochs,
        seed=args.seed,
        wheel_cache=args.wheel_cache,
    )
    run_demo(settings)
    return 0
