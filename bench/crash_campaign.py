"""Kill -9 campaign, long form: the real daemon SIGKILLed 200+ times at seeded random moments.

The same harness as ``tests/daemon/test_crash_campaign.py`` (30 kills in CI), on a tiny
project (shapes data, the oracle, yolov8n at 64 px, 1 epoch) with more rounds and more kills.
After every kill it checks ``PRAGMA integrity_check``, that the last logged transition equals
the stored state, that no annotation batch was created twice, that no worker outlived the
daemon and that no image was added twice; the last run must finish every round with nothing
lost. Prints where the kills landed and every problem found.

Then the ingestion window (``tests/daemon/ingest_window.py``, 4 kills in CI): the daemon
SIGKILLed at fault points between the image store and the pool (after a file is committed
to the image store, after its drop name is removed, after a batch is in the pool), each at a
seeded count, deterministically; no image may be lost, added twice or quarantined.

    python bench/crash_campaign.py [--kills 200] [--rounds 4] [--seed 1] [--window-kills 60]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from al_object_detection.adapters.dataset.store import (  # noqa: E402
    FiftyOneStore,
    import_fiftyone,
)
from al_object_detection.data.shapes import make_shapes  # noqa: E402
from tests.daemon.campaign import Campaign  # noqa: E402
from tests.daemon.ingest_window import IngestWindowCampaign, plan  # noqa: E402
from tests.daemon.tiny import load_shapes, write_project  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="rounds after round 0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window-kills", type=int, default=60, help="in the ingestion window")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    failed = args.kills > 0 and round_campaign(args)
    failed = (args.window_kills > 0 and window_campaign(args)) or failed
    sys.exit(1 if failed else 0)


def round_campaign(args: argparse.Namespace) -> bool:
    """Kills at random moments in every state; whether it found a problem."""
    work = Path(tempfile.mkdtemp(prefix="alod-bench-campaign-"))
    fo = import_fiftyone()  # the default database: the work folder is deleted at the end
    name = f"bench-campaign-{uuid.uuid4().hex[:8]}"
    make_shapes(work / "shapes", n_images=48, image_size=64, seed=0)
    extra = make_shapes(work / "extra", n_images=args.kills // 3 + 1, image_size=64, seed=1)
    store = load_shapes(name, work / "shapes")
    config = write_project(work, name, rounds=args.rounds, budget=2, bootstrap_size=4)
    (work / "drop").mkdir()
    campaign = Campaign(
        work, config, dataset=store.dataset, rounds=args.rounds, seed=args.seed,
        drop_images=[image.filepath for image in extra.images],
    )  # fmt: skip
    started = time.perf_counter()
    report = campaign.run(args.kills)
    print(report.summary())
    print(f"wall time {time.perf_counter() - started:.0f}s; work folder {work}")
    fo.delete_dataset(name)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return bool(report.problems or report.final_code != 0)


def window_campaign(args: argparse.Namespace) -> bool:
    """Kills at the ingestion fault points; whether it found a problem."""
    work = Path(tempfile.mkdtemp(prefix="alod-bench-window-"))
    name = f"bench-window-{uuid.uuid4().hex[:8]}"
    store = FiftyOneStore.open(name, create=True)
    report = IngestWindowCampaign(work, store.dataset).run(plan(args.window_kills, args.seed))
    print(report.summary())
    print(f"work folder {work}")
    store.dataset.delete()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return bool(report.problems or report.final_code != 0)


if __name__ == "__main__":
    main()
