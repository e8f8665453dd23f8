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
from concurrent.futures import ThreadPoolExecutor
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
    fields = {"s": f"${predictions}.detections.class_scores", "e": f"${embedding}"}
    for position, document in _documents(collection, ids, fields, chunk):
        rows = document.get("s")
        if rows:
            per_image[position] = np.asarray(rows, dtype=np.float32).reshape(len(rows), n_classes)
        vectors.put(position, document.get("e"))
    counts = np.fromiter((len(rows) for rows in per_image), dtype=np.int64, count=len(ids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    scores = np.concatenate(per_image) if per_image else no_boxes
    return scores, offsets, vectors.result()


def read_embeddings(
    collection: Any, ids: Sequence[str], *, embedding: str, chunk: int = CHUNK
) -> NDArray[Any] | None:
    """Embeddings of ``ids`` in order, or None when any is missing."""
    vectors = _Vectors(len(ids))
    for position, document in _documents(collection, ids, {"e": f"${embedding}"}, chunk):
        vectors.put(position, document.get("e"))
    return vectors.result()


def read_values(
    collection: Any, ids: Sequence[str], field: str, *, chunk: int = CHUNK
) -> list[Any]:
    """One top-level field of ``ids``, in order (None where a sample lacks it)."""
    values: list[Any] = [None] * len(ids)
    for position, document in _documents(collection, ids, {"v": f"${field}"}, chunk):
        values[position] = document.get("v")
    return values


def _documents(
    collection: Any, ids: Sequence[str], fields: dict[str, str], chunk: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position in ``ids``, ``{name: value of its path}``) for every id; missing ids raise.

    The next chunk is fetched (and decoded) in a thread while this one is consumed, so the
    server's work overlaps the caller's.
    """
    position = {sample_id: i for i, sample_id in enumerate(ids)}
    if len(position) != len(ids):
        raise ValueError("sample ids must be unique")
    seen = 0
    with ThreadPoolExecutor(max_workers=1) as fetcher:
        ahead = fetcher.submit(_fetch, collection, ids[:chunk], fields) if ids else None
        for start in range(0, len(ids), chunk):
            assert ahead is not None
            documents = ahead.result()
            following = ids[start + chunk : start + 2 * chunk]
            ahead = fetcher.submit(_fetch, collection, following, fields) if following else None
            for document in documents:
                seen += 1
                yield position[str(document["_id"])], document
    if seen != len(ids):
        raise LookupError(f"{len(ids) - seen} of {len(ids)} samples are not in the dataset")


def _fetch(collection: Any, ids: Sequence[str], fields: dict[str, str]) -> list[dict[str, Any]]:
    """The documents of ``ids`` (any order), each with ``_id`` and ``fields``."""
    from bson import ObjectId

    wanted = [ObjectId(i) for i in ids]
    pipeline = [{"$match": {"_id": {"$in": wanted}}}, {"$project": fields}]
    return list(collection.aggregate(pipeline))


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
