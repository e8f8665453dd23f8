"""The ultralytics detector adapter (YOLOv8, 11, ... any ultralytics detection checkpoint).

Prediction keeps what ultralytics throws away: the full per-class score vector of every kept
box (indices from NMS into the raw head output) and a pooled feature vector per image (a forward
hook on one layer), both from the same forward pass as the boxes.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_object_detection.adapters.detection.config import YoloConfig, load_yolo_config
from al_object_detection.adapters.detection.protocol import ImagePrediction, TrainedModel
from al_object_detection.offline import activate, configure_ultralytics


class DetectorError(RuntimeError):
    """A checkpoint that cannot be loaded, or a training run that failed."""


class YOLOv8_ALObjectDetector:
    """An ultralytics detector that predicts with class scores and embeddings, and retrains."""

    def __init__(
        self,
        model_path: str | Path,
        model_config: str | Path | YoloConfig | None = None,
        *,
        work_dir: str | Path | None = None,
    ) -> None:
        self.config = (
            model_config if isinstance(model_config, YoloConfig) else load_yolo_config(model_config)
        )
        self.model_path = _checked_model_path(model_path)
        self.work_dir = (
            Path(work_dir) if work_dir else activate().state_dir / "detector"
        ).resolve()
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded ``ultralytics.YOLO`` model (loaded on first use)."""
        if self._model is None:
            configure_ultralytics()
            from ultralytics import YOLO

            try:
                self._model = YOLO(str(self.model_path), task="detect")
            except Exception as error:  # ultralytics raises many types for a bad checkpoint
                raise DetectorError(
                    f"{self.model_path}: cannot load as a detector: {error}"
                ) from error
        return self._model

    @property
    def model_id(self) -> str:
        """Identifies the current weights (predictions made by other weights are stale)."""
        return str(self.model_path)

    def use_weights(self, path: Path) -> None:
        """Switch to other weights (a later round's); loaded on next use."""
        if Path(path) != self.model_path:
            self.model_path, self._model = _checked_model_path(path), None

    @property
    def classes(self) -> tuple[str, ...]:
        names = self.model.names
        return tuple(names[i] for i in sorted(names))

    def predict(
        self, filepaths: Sequence[str], *, progress: bool = True
    ) -> Iterator[ImagePrediction]:
        """Stream predictions for ``filepaths`` in order, a batch at a time, with a progress bar
        that counts the batches done.

        ultralytics handed the whole list would decode every image and run them as one batch
        before the first result: here it gets one batch per call (its predictor set up once).
        """
        if not filepaths:
            return
        from tqdm import tqdm

        from al_object_detection.adapters.detection.predictor import scoring_predictor

        settings = self.config.predict
        predictor = scoring_predictor(
            settings.embedding_layer, settings.embedding_pooling, settings.embedding_boxes
        )
        model = self.model
        model.predictor = None  # a predictor left over from another call may hold stale hooks
        paths = list(filepaths)
        # redrawn at every batch (not throttled by time): a batch takes long enough
        with tqdm(
            total=len(paths), disable=not progress, desc="predict", mininterval=0, miniters=1
        ) as bar:
            for start in range(0, len(paths), settings.batch):
                batch = paths[start : start + settings.batch]
                results = model.predict(
                    batch,
                    predictor=predictor,
                    imgsz=settings.imgsz,
                    conf=settings.conf,
                    iou=settings.iou,
                    max_det=settings.max_det,
                    batch=settings.batch,
                    device=settings.device or None,
                    verbose=False,
                )
                for result in results:
                    yield _to_prediction(result)
                bar.update(len(batch))
        model.predictor = None

    def train(self, data_yaml: Path, *, round_index: int) -> TrainedModel:
        """Train on ``data_yaml``, starting from the current weights; keep the best epoch."""
        run_name = f"round_{round_index:03d}"
        model = self.model
        try:
            model.train(
                data=str(data_yaml),
                project=str(self.work_dir / "runs"),
                name=run_name,
                exist_ok=True,
                verbose=False,
                **self.config.train,
            )
        except Exception as error:  # a crashed training run must leave the current model intact
            raise DetectorError(f"training round {round_index} failed: {error}") from error
        trainer = model.trainer
        best = Path(trainer.best) if Path(trainer.best).exists() else Path(trainer.last)
        metrics = {k: float(v) for k, v in (trainer.metrics or {}).items()}
        if not best.exists() or any(math.isnan(v) for v in metrics.values()):
            raise DetectorError(
                f"training round {round_index} produced no usable weights: {metrics}"
            )
        kept = self.work_dir / "weights" / f"{run_name}.pt"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(best, kept)
        self.model_path, self._model = (
            kept,
            None,
        )  # the next round warm-starts from the best weights
        return TrainedModel(weights=kept, metrics=metrics)


def _checked_model_path(model_path: str | Path) -> Path:
    path = Path(model_path)
    if path.suffix in {".yaml", ".yml"} and not path.exists():
        return path  # a model yaml ultralytics ships, such as yolov8n.yaml: built from scratch
    if not path.is_file():
        raise DetectorError(
            f"checkpoint not found: {path} (weights are never downloaded: give a local .pt file, "
            "or a model yaml such as yolov8n.yaml to start from scratch)"
        )
    return path


def _to_prediction(result: Any) -> ImagePrediction:
    boxes = result.boxes
    height, width = result.orig_shape
    return ImagePrediction(
        filepath=result.path,
        width=int(width),
        height=int(height),
        boxes_xyxy=boxes.xyxy.numpy().astype(np.float32, copy=False),
        label_ids=boxes.cls.numpy().astype(np.int64),
        confidences=boxes.conf.numpy().astype(np.float32, copy=False),
        class_scores=result.class_scores,
        embedding=result.embedding,
    )
