"""``alod data``: make or import a detection dataset and load it into FiftyOne."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_data_commands(parser: argparse.ArgumentParser) -> None:
    """``alod data SOURCE OUT``: one sub-command per source (generated or imported)."""
    sources = parser.add_subparsers(required=True, metavar="SOURCE")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("out", type=Path, help="folder to write the dataset into")
    common.add_argument("--dataset", help="FiftyOne dataset name (default: the folder's name)")
    common.add_argument("--database-dir", type=Path, help="FiftyOne database folder")
    common.add_argument("--database-uri", help="a MongoDB server's URI (instead of a folder)")
    common.add_argument(
        "--labels",
        choices=("hidden", "labeled"),
        default="hidden",
        help="pool labels: hidden (revealed by the simulated annotator) or labeled now",
    )

    forest = sources.add_parser(
        "deepforest", parents=[common], help="real aerial tree photos, tiled"
    )
    forest.add_argument("--tile", type=int, default=320)
    forest.add_argument("--stride", type=int, default=160)
    forest.add_argument(
        "--wheel-cache", type=Path, default=None, help="folder of downloaded wheels"
    )
    forest.set_defaults(handler=_data_deepforest)

    fashion = sources.add_parser("fashion", parents=[common], help="Fashion-MNIST items on photos")
    fashion.add_argument("--images", type=int, default=300)
    fashion.add_argument("--size", type=int, default=320)
    fashion.add_argument("--seed", type=int, default=0)
    fashion.add_argument(
        "--class-weights",
        default=None,
        help="'long_tail' or ten comma-separated weights (default: uniform)",
    )
    fashion.add_argument("--mnist-dir", type=Path, default=None)
    fashion.set_defaults(handler=_data_fashion)

    shapes = sources.add_parser("shapes", parents=[common], help="tiny coloured shapes (tests)")
    shapes.add_argument("--images", type=int, default=40)
    shapes.add_argument("--size", type=int, default=64)
    shapes.add_argument("--seed", type=int, default=0)
    shapes.set_defaults(handler=_data_shapes)

    imported = sources.add_parser(
        "import", parents=[common], help="load a YOLO folder or a COCO json (OUT is the source)"
    )
    imported.add_argument("--format", choices=("yolo", "coco"), default="yolo")
    imported.add_argument("--images-dir", type=Path, default=None, help="COCO: images folder")
    imported.set_defaults(handler=_data_import)


def _data_deepforest(args: argparse.Namespace) -> int:
    from al_object_detection.data.deepforest import make_deepforest

    data = make_deepforest(args.out, cache_dir=args.wheel_cache, tile=args.tile, stride=args.stride)
    return _load_into_fiftyone(args, data)


def _data_fashion(args: argparse.Namespace) -> int:
    from al_object_detection.data.fashion import make_fashion

    text: str | None = args.class_weights
    weights: str | list[float] | None = text
    if text and text != "long_tail":
        weights = [float(w) for w in text.split(",")]
    data = make_fashion(
        args.out,
        args.images,
        seed=args.seed,
        image_size=args.size,
        class_weights=weights,
        mnist_dir=args.mnist_dir,
    )
    return _load_into_fiftyone(args, data)


def _data_shapes(args: argparse.Namespace) -> int:
    from al_object_detection.data.shapes import make_shapes

    data = make_shapes(args.out, n_images=args.images, image_size=args.size, seed=args.seed)
    return _load_into_fiftyone(args, data)


def _data_import(args: argparse.Namespace) -> int:
    from al_object_detection.data.coco import read_coco
    from al_object_detection.data.yolo import read_yolo

    data = read_coco(args.out, args.images_dir) if args.format == "coco" else read_yolo(args.out)
    return _load_into_fiftyone(args, data)


def _load_into_fiftyone(args: argparse.Namespace, data: object) -> int:
    from al_object_detection.adapters.dataset.store import FiftyOneStore, import_fiftyone
    from al_object_detection.data.records import DetectionData

    assert isinstance(data, DetectionData)
    import_fiftyone(args.database_dir, database_uri=args.database_uri)
    name = args.dataset or Path(args.out).resolve().name
    store = FiftyOneStore.open(name, create=True)
    added = store.add(data, labels=args.labels)
    counts = store.counts()
    print(
        f"dataset {name!r}: {len(added)} images added; pool {counts['pool']}, "
        f"labeled {counts['labeled']}, val {counts['val']}; classes {', '.join(store.classes)}"
    )
    return 0
