"""The FiftyOne dataset as the single source of truth for images and labels.

Fields it keeps on every sample (names in :class:`Fields`):
``al_split`` (pool / labeled / val), ``al_round`` (the round a sample was picked in),
``ground_truth`` (human or imported labels), ``hidden_ground_truth`` (labels the oracle
annotator reveals in simulations), ``predictions`` (each box with its ``class_scores`` vector)
and ``embedding``. All writes are bulk ``set_values`` calls keyed by sample id.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from al_object_detection.adapters.dataset.database import connect_fiftyone
from al_object_detection.adapters.dataset.pool_reader import (
    read_embeddings,
    read_prediction_arrays,
    read_values,
)
from al_object_detection.adapters.detection.evaluation import DetectionMetrics, evaluate_detections
from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.data.records import DetectionData
from al_object_detection.offline import activate

POOL, LABELED, VAL = "pool", "labeled", "val"
LabelsMode = Literal["labeled", "hidden"]


@dataclass(frozen=True)
class Fields:
    """Names of the sample fields the store owns."""

    split: str = "al_split"
    round: str = "al_round"
    ground_truth: str = "ground_truth"
    hidden_ground_truth: str = "hidden_ground_truth"
    predictions: str = "predictions"
    prediction_model: str = "prediction_model"
    embedding: str = "embedding"


class StoreError(RuntimeError):
    """The dataset is not in the shape the store needs."""


def import_fiftyone(
    database_dir: Path | str | None = None, *, database_uri: str | None = None
) -> Any:
    """Import FiftyOne offline, connected to the chosen database (see ``database.py``)."""
    activate()
    return connect_fiftyone(uri=database_uri, directory=database_dir)


class FiftyOneStore:
    """Pool / labeled / validation bookkeeping, predictions and labels on one dataset."""

    def __init__(self, dataset: Any, fields: Fields | None = None) -> None:
        self.dataset = dataset
        self.fields = fields or Fields()
        self._ensure_schema()

    @classmethod
    def open(cls, name: str, *, create: bool = False) -> FiftyOneStore:
        """Load the persistent dataset ``name`` (or create it empty when asked)."""
        fo = import_fiftyone()
        if fo.dataset_exists(name):
            return cls(fo.load_dataset(name))
        if not create:
            raise StoreError(f"no FiftyOne dataset named {name!r} (known: {fo.list_datasets()})")
        dataset = fo.Dataset(name, persistent=True)
        return cls(dataset)

    @property
    def classes(self) -> tuple[str, ...]:
        """The project's class names (kept in the dataset's ``default_classes``)."""
        return tuple(self.dataset.default_classes)

    def add(self, data: DetectionData, *, labels: LabelsMode = "hidden") -> list[str]:
        """Add images in bulk; pool labels become ``labels`` (revealed later, or labeled now).

        Images already in the dataset (same file path) are skipped, so adding twice is safe.
        """
        fo = import_fiftyone()
        self._merge_classes(data.classes)
        known = set(self.dataset.values("filepath"))
        samples = []
        for image in data.images:
            path = str(image.filepath)
            if path in known:
                continue
            known.add(path)
            sample = fo.Sample(filepath=path)
            sample["metadata"] = fo.ImageMetadata(width=image.width, height=image.height)
            split = VAL if image.split == "val" else POOL
            if image.boxes is not None:
                detections = _detections(fo, image.boxes, image.labels)
                if split == VAL or labels == "labeled":
                    sample[self.fields.ground_truth] = detections
                    split = VAL if split == VAL else LABELED
                else:
                    sample[self.fields.hidden_ground_truth] = detections
            sample[self.fields.split] = split
            samples.append(sample)
        return list(self.dataset.add_samples(samples, progress=False)) if samples else []

    def ids(self, split: str) -> list[str]:
        """Sample ids of one split, in a stable order."""
        view = self.dataset.match({self.fields.split: split}).sort_by("filepath")
        return [str(i) for i in view.values("id")]

    def filepaths(self, ids: Sequence[str]) -> list[str]:
        """File paths of ``ids``, in the same order."""
        return [str(p) for p in read_values(self.dataset._sample_collection, ids, "filepath")]

    def counts(self) -> dict[str, int]:
        """Number of samples per split."""
        counts = self.dataset.count_values(self.fields.split)
        return {split: int(counts.get(split, 0)) for split in (POOL, LABELED, VAL)}

    def write_predictions(
        self,
        predictions: Iterable[tuple[str, ImagePrediction]],
        classes: Sequence[str],
        *,
        model_id: str = "",
        chunk: int = 512,
    ) -> int:
        """Store predictions (with class-score vectors) and embeddings, in bulk chunks.

        Each sample gets its boxes, embedding and ``model_id`` in one ``$set`` of FiftyOne's own
        document layout (atomic per sample), a chunk in one bulk call: building ``Detection``
        objects and ``set_values`` cost more than inference itself for 100 boxes per image.
        """
        fo = import_fiftyone()
        self._declare_prediction_fields(fo)
        from bson import ObjectId
        from fiftyone.core.utils import serialize_numpy_array
        from pymongo import UpdateOne

        written, updates = 0, []
        for sample_id, prediction in predictions:
            values = {
                self.fields.predictions: _detections_document(prediction, classes),
                self.fields.prediction_model: model_id,
                "last_modified_at": datetime.now(UTC).replace(tzinfo=None),
            }
            if prediction.embedding is not None:
                values[self.fields.embedding] = serialize_numpy_array(prediction.embedding)
            updates.append(UpdateOne({"_id": ObjectId(sample_id)}, {"$set": values}))
            if len(updates) >= chunk:
                written += self._flush(updates)
        return written + self._flush(updates)

    def _declare_prediction_fields(self, fo: Any) -> None:
        fields = self.fields
        declared = self.dataset.get_field_schema()
        if fields.predictions not in declared:
            self.dataset.add_sample_field(
                fields.predictions, fo.EmbeddedDocumentField, embedded_doc_type=fo.Detections
            )
        if fields.prediction_model not in declared:
            self.dataset.add_sample_field(fields.prediction_model, fo.StringField)
        if fields.embedding not in declared:
            self.dataset.add_sample_field(fields.embedding, fo.VectorField)

    def _flush(self, updates: list[Any]) -> int:
        if updates:
            self.dataset._sample_collection.bulk_write(updates, ordered=False)
        n = len(updates)
        updates.clear()
        return n

    def stale_predictions(self, ids: Sequence[str], model_id: str) -> list[str]:
        """Those of ``ids`` without predictions from ``model_id``, in order."""
        if not self.dataset.has_sample_field(self.fields.prediction_model):
            return list(ids)
        models = read_values(self.dataset._sample_collection, ids, self.fields.prediction_model)
        return [i for i, model in zip(ids, models, strict=True) if model != model_id]

    def existing(self, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` still in the dataset."""
        return [str(i) for i in self.dataset.select(ids).values("id")]

    def prediction_arrays(
        self, ids: Sequence[str], n_classes: int
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
        """Per-box class scores as CSR arrays, and embeddings, for ``ids`` in order."""
        return read_prediction_arrays(
            self.dataset._sample_collection,
            ids,
            n_classes,
            predictions=self.fields.predictions,
            embedding=self.fields.embedding,
        )

    def embeddings(self, ids: Sequence[str]) -> NDArray[Any] | None:
        """Embeddings of ``ids`` in order, or None when any is missing."""
        return read_embeddings(
            self.dataset._sample_collection, ids, embedding=self.fields.embedding
        )

    def class_counts(self, split: str = LABELED) -> NDArray[Any]:
        """Ground-truth boxes per class in one split."""
        counts = self.dataset.match({self.fields.split: split}).count_values(
            f"{self.fields.ground_truth}.detections.label"
        )
        return np.array([counts.get(name, 0) for name in self.classes], dtype=np.int64)

    def set_labels(self, labels: Mapping[str, Any], *, round_index: int) -> None:
        """Store human labels for picked samples and move them from pool to labeled."""
        if not labels:
            return
        ids = list(labels)
        self.dataset.set_values(self.fields.ground_truth, dict(labels), key_field="id")
        self.dataset.set_values(self.fields.split, dict.fromkeys(ids, LABELED), key_field="id")
        self.dataset.set_values(self.fields.round, dict.fromkeys(ids, round_index), key_field="id")

    def predictions(self, ids: Sequence[str]) -> list[Any]:
        """The stored predictions of ``ids`` in order (None where there are none).

        Another process (the daemon's worker) may have added the field after this process
        loaded the dataset: a schema without it is read again before concluding there is none.
        """
        if not self.dataset.has_sample_field(self.fields.predictions):
            self.dataset.reload()
        if not self.dataset.has_sample_field(self.fields.predictions):
            return [None] * len(ids)
        return list(self.dataset.select(ids, ordered=True).values(self.fields.predictions))

    def hidden_labels(self, ids: Sequence[str]) -> dict[str, Any]:
        """The hidden ground truth of ``ids`` (what a simulated annotator reveals)."""
        view = self.dataset.select(ids, ordered=True)
        values = view.values(self.fields.hidden_ground_truth)
        return {i: v for i, v in zip(view.values("id"), values, strict=True)}

    def export_yolo(self, export_dir: Path, *, train_split: str = LABELED) -> Path:
        """Export the labeled split (train) and the validation split (val) for ultralytics."""
        fo = import_fiftyone()
        classes = list(self.classes)
        shutil.rmtree(export_dir, ignore_errors=True)  # never train on a previous attempt's files
        quiet = logging.getLogger("fiftyone.core.collections")  # "export will be merged": intended
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            for split, name in ((train_split, "train"), (VAL, "val")):
                view = self.dataset.match({self.fields.split: split})
                if len(view) == 0:
                    raise StoreError(f"cannot train: the {split!r} split is empty")
                view.export(
                    export_dir=str(export_dir),
                    dataset_type=fo.types.YOLOv5Dataset,
                    label_field=self.fields.ground_truth,
                    split=name,
                    classes=classes,
                    export_media="symlink",
                    progress=False,
                )
        finally:
            quiet.setLevel(level)
        return export_dir / "dataset.yaml"

    def reload(self) -> None:
        """Read the dataset again: another process may have added samples or fields."""
        self.dataset.reload()

    def evaluate(self, ids: Sequence[str], *, eval_key: str) -> DetectionMetrics:
        """COCO mAP of the stored predictions of ``ids`` against their ground truth."""
        return evaluate_detections(
            self.dataset.select(list(ids)),
            pred_field=self.fields.predictions,
            gt_field=self.fields.ground_truth,
            classes=list(self.classes),
            eval_key=eval_key,
        )

    def ensure_classes(self, classes: Sequence[str]) -> None:
        """Add class names the dataset does not list yet (e.g. a zero-shot model's)."""
        self._merge_classes(classes)

    def _merge_classes(self, classes: Sequence[str]) -> None:
        merged = list(self.dataset.default_classes)
        merged += [c for c in classes if c not in merged]
        if merged != list(self.dataset.default_classes):
            self.dataset.default_classes = merged
            self.dataset.save()

    def _ensure_schema(self) -> None:
        fo = import_fiftyone()
        schema = self.dataset.get_field_schema()
        if self.fields.split not in schema:
            self.dataset.add_sample_field(self.fields.split, fo.StringField)
        if self.fields.round not in schema:
            self.dataset.add_sample_field(self.fields.round, fo.IntField)


def _detections(fo: Any, boxes: NDArray[Any], labels: Sequence[str]) -> Any:
    return fo.Detections(
        detections=[
            fo.Detection(label=label, bounding_box=[float(v) for v in box])
            for box, label in zip(boxes, labels, strict=True)
        ]
    )


def _detections_document(prediction: ImagePrediction, classes: Sequence[str]) -> dict[str, Any]:
    """A ``Detections`` label as FiftyOne stores it, each box with its ``class_scores``."""
    from bson import ObjectId

    rows = zip(
        prediction.relative_boxes.tolist(),
        prediction.label_ids.tolist(),
        prediction.confidences.tolist(),
        prediction.class_scores.tolist(),
        strict=True,
    )
    return {
        "_cls": "Detections",
        "detections": [
            {
                "_id": ObjectId(),
                "_cls": "Detection",
                "attributes": {},
                "tags": [],
                "label": classes[label_id],
                "bounding_box": box,
                "confidence": confidence,
                "class_scores": scores,
            }
            for box, label_id, confidence, scores in rows
        ],
    }
