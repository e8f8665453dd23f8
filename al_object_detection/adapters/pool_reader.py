"""What the sampler reads for a whole pool: per-box class scores and embeddings, as arrays.

FiftyOne's ``select(ids, ordered=True)`` puts every id into one pipeline stage and orders the
result with ``$indexOfArray``: quadratic in the pool size, and past ~900k ids the stage alone
exceeds MongoDB's 16 MB document limit. Here the raw sample documents are read in chunks of
ids through the ``_id`` index, only the two fields needed, and each row is placed by a
position map: linear, and the arrays are filled in place.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

CHUNK = 20_000


def read_prediction_arrays(
    collection: Any,
    ids: Sequence[str],
    n_classes: int,
    *,
    predictions: str,
    embedding: str,
    chunk: int = CHUNK,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Box class scores (CSR: rows and offsets per image) and embeddings of ``ids``, in order.

    Embeddings are None unless every sample has one.
    """
    no_boxes = np.zeros((0, n_classes), np.float32)
    per_image: list[NDArray[Any]] = [no_boxes] * len(ids)
    vectors = _Vectors(len(ids))
    projection = {f"{predictions}.detections.class_scores": 1, embedding: 1}
    for position, document in _documents(collection, ids, projection, chunk):
        boxes = (document.get(predictions) or {}).get("detections") or ()
        if boxes:
            rows = [box.get("class_scores") for box in boxes]
            per_image[position] = np.asarray(rows, dtype=np.float32).reshape(len(rows), n_classes)
        vectors.put(position, document.get(embedding))
    counts = np.fromiter((len(rows) for rows in per_image), dtype=np.int64, count=len(ids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    scores = np.concatenate(per_image) if per_image else no_boxes
    return scores, offsets, vectors.result()


def read_embeddings(
    collection: Any, ids: Sequence[str], *, embedding: str, chunk: int = CHUNK
) -> NDArray[Any] | None:
    """Embeddings of ``ids`` in order, or None when any is missing."""
    vectors = _Vectors(len(ids))
    for position, document in _documents(collection, ids, {embedding: 1}, chunk):
        vectors.put(position, document.get(embedding))
    return vectors.result()


def read_values(
    collection: Any, ids: Sequence[str], field: str, *, chunk: int = CHUNK
) -> list[Any]:
    """One top-level field of ``ids``, in order (None where a sample lacks it)."""
    values: list[Any] = [None] * len(ids)
    for position, document in _documents(collection, ids, {field: 1}, chunk):
        values[position] = document.get(field)
    return values


def _documents(
    collection: Any, ids: Sequence[str], projection: dict[str, int], chunk: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position in ``ids``, document) for every id; a missing id is an error."""
    from bson import ObjectId

    position = {sample_id: i for i, sample_id in enumerate(ids)}
    if len(position) != len(ids):
        raise ValueError("sample ids must be unique")
    seen = 0
    for start in range(0, len(ids), chunk):
        wanted = [ObjectId(i) for i in ids[start : start + chunk]]
        for document in collection.find({"_id": {"$in": wanted}}, projection):
            seen += 1
            yield position[str(document["_id"])], document
    if seen != len(ids):
        raise LookupError(f"{len(ids) - seen} of {len(ids)} samples are not in the dataset")


class _Vectors:
    """Embeddings gathered into one float32 matrix as they arrive, in any order."""

    def __init__(self, n: int) -> None:
        self.n, self.missing = n, n == 0
        self.matrix: NDArray[Any] | None = None
        self.header: bytes | None = None  # of the first .npy buffer: the rest share it
        self.dtype: Any = None

    def put(self, position: int, value: Any) -> None:
        if self.missing:
            return
        if value is None:
            self.missing, self.matrix = True, None
            return
        vector = self._decode(value)
        if self.matrix is None:
            self.matrix = np.empty((self.n, vector.shape[0]), np.float32)
        self.matrix[position] = vector

    def result(self) -> NDArray[Any] | None:
        return None if self.missing else self.matrix

    def _decode(self, value: Any) -> NDArray[Any]:
        """FiftyOne's vector encoding (zlib-compressed ``.npy`` bytes), or a plain list."""
        if not isinstance(value, bytes):
            return np.asarray(value, dtype=np.float32).ravel()
        raw = zlib.decompress(value)
        if self.header is not None and raw.startswith(self.header):
            return np.frombuffer(raw, dtype=self.dtype, offset=len(self.header))
        array: NDArray[Any] = np.load(io.BytesIO(raw), allow_pickle=False).ravel()
        self.header, self.dtype = raw[: len(raw) - array.nbytes], array.dtype
        return array
