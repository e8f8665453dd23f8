"""Pool prediction on Ray: Ray Data ``map_batches`` over actors that each hold the detector.

Each actor loads the weights once (by path: every worker must be able to read it), reads its
batch's images by path and returns each image's :class:`ImagePrediction` (boxes, per-class score
vectors, embedding) exactly as the local path makes them; the driver receives them in order and
writes them to the store in bulk. Actors take ``num_gpus`` each when the cluster has GPUs, and
``num_cpus`` each otherwise. Training stays with the wrapped local detector.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import ray
from numpy.typing import NDArray

from al_object_detection.adapters.detection.compute import ComputeSettings
from al_object_detection.adapters.detection.config import YoloConfig
from al_object_detection.adapters.detection.protocol import ImagePrediction, TrainedModel
from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector


class RayDetector:
    """A trainable detector whose predictions run on a Ray cluster."""

    def __init__(self, local: YOLOv8_ALObjectDetector, settings: ComputeSettings) -> None:
        self.local, self.settings = local, settings

    @property
    def classes(self) -> tuple[str, ...]:
        return self.local.classes

    @property
    def model_id(self) -> str:
        return self.local.model_id

    def train(self, data_yaml: Path, *, round_index: int) -> TrainedModel:
        return self.local.train(data_yaml, round_index=round_index)

    def use_weights(self, path: Path) -> None:
        self.local.use_weights(path)

    def predict(
        self, filepaths: Sequence[str], *, progress: bool = True
    ) -> Iterator[ImagePrediction]:
        """Stream predictions for ``filepaths`` in order, made by the cluster's actors.

        A model yaml (untrained weights, different in every process) predicts locally.
        """
        if not filepaths:
            return
        if not self.local.model_path.is_file():
            yield from self.local.predict(filepaths, progress=progress)
            return
        connect(self.settings.address)
        from tqdm import tqdm

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        rows = _predictions(list(filepaths), self.local, self.settings)
        bar = tqdm(total=len(filepaths), disable=not progress, desc="predict (ray)")
        for expected, row in zip(filepaths, rows, strict=True):
            if row["path"] != expected:
                raise RuntimeError(f"Ray returned {row['path']} where {expected} was due")
            bar.update()
            yield pickle.loads(row["prediction"])  # made by our own actors
        bar.close()


def connect(address: str) -> None:
    """Join the cluster at ``address`` once ("local": start one in this process)."""
    if not ray.is_initialized():
        ray.init(None if address == "local" else address, include_dashboard=False)


def actor_resources(cluster: dict[str, float], settings: ComputeSettings) -> dict[str, Any]:
    """``map_batches`` resources: GPU actors on a cluster with GPUs, else CPU actors, as many
    as the cluster holds at once."""
    gpus = cluster.get("GPU", 0.0)
    if gpus and settings.num_gpus:
        count, num_gpus = int(gpus // settings.num_gpus), settings.num_gpus
    else:
        count, num_gpus = int(cluster.get("CPU", 1.0) // settings.num_cpus), 0.0
    pool = ray.data.ActorPoolStrategy(min_size=1, max_size=max(1, count))
    return {"compute": pool, "num_cpus": settings.num_cpus, "num_gpus": num_gpus}


def _predictions(
    paths: list[str], local: YOLOv8_ALObjectDetector, settings: ComputeSettings
) -> Iterator[dict[str, Any]]:
    blocks = max(1, math.ceil(len(paths) / settings.batch_size))
    dataset = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=blocks)
    predicted = dataset.map_batches(
        _PredictActor,
        fn_constructor_kwargs={
            "model_path": str(local.model_path),
            "config": local.config,
            "threads": max(1, math.ceil(settings.num_cpus)),
        },
        batch_size=settings.batch_size,
        batch_format="numpy",
        **actor_resources(ray.cluster_resources(), settings),  # type: ignore[no-untyped-call]
    )
    yield from predicted.iter_rows()


class _PredictActor:
    """One Ray actor: the detector, loaded once, predicting batches of image paths."""

    def __init__(self, model_path: str, config: YoloConfig, threads: int) -> None:
        from al_object_detection.offline import activate

        activate(threads=threads)
        self.detector = YOLOv8_ALObjectDetector(model_path, config)

    def __call__(self, batch: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        paths = [str(p) for p in batch["path"]]
        predictions = self.detector.predict(paths, progress=False)
        pickled = [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in predictions]
        return {
            "path": np.array(paths, dtype=object),
            "prediction": np.array(pickled, dtype=object),
        }
