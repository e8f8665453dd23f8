"""The FiftyOne side of ingestion: content hashes on samples, stored images added to the pool."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from al_object_detection.adapters.dataset.store import POOL, FiftyOneStore, import_fiftyone

HASH_FIELD = "al_sha256"


class PoolWriter:
    """Adds images to a project's pool, one sample per content hash."""

    def __init__(self, store: FiftyOneStore) -> None:
        self.store = store
        fo = import_fiftyone()
        if store.dataset.media_type is None:
            store.dataset.media_type = "image"  # what the first add_samples would set
        if not store.dataset.has_sample_field(HASH_FIELD):
            store.dataset.add_sample_field(HASH_FIELD, fo.StringField)
        store.dataset.create_index(HASH_FIELD)  # duplicate checks look hashes up in bulk

    def known(self, hashes: Iterable[str], chunk: int = 5000) -> set[str]:
        """Those of ``hashes`` that some sample already has."""
        wanted = sorted(set(hashes))
        found: set[str] = set()
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            view = self.store.dataset.match({HASH_FIELD: {"$in": part}})  # a query: the index
            found.update(str(h) for h in view.distinct(HASH_FIELD))
        return found

    def add(self, images: Sequence[tuple[str, Path]], chunk: int = 1000) -> int:
        """Add (sha256, path) pairs as pool samples; the caller has checked they are new.

        Written as FiftyOne's own sample documents in bulk inserts: ``add_samples`` builds a
        ``Sample`` and a backing document per image, which cost more than all the checks.
        """
        from bson import ObjectId

        dataset = self.store.dataset
        split, dataset_id = self.store.fields.split, dataset._doc.id
        for start in range(0, len(images), chunk):
            now = datetime.now(UTC).replace(tzinfo=None)  # FiftyOne keeps naive UTC times
            documents = [
                {
                    "_id": ObjectId(),
                    "filepath": str(path),
                    "tags": [],
                    "_media_type": "image",
                    "_rand": random.random() * 0.001 + 0.999,  # as FiftyOne draws it
                    split: POOL,
                    HASH_FIELD: sha,
                    "_dataset_id": dataset_id,
                    "created_at": now,
                    "last_modified_at": now,
                }
                for sha, path in images[start : start + chunk]
            ]
            dataset._sample_collection.insert_many(documents, ordered=False)
        return len(images)

    def backfill(self, chunk: int = 1000) -> int:
        """Hash the files of samples that have no content hash yet (added by other means)."""
        from fiftyone import ViewField

        view = self.store.dataset.match(ViewField(HASH_FIELD).exists(False))
        ids, paths = view.values("id"), view.values("filepath")
        done = 0
        for start in range(0, len(ids), chunk):
            values: dict[str, Any] = {}
            for sample_id, path in zip(
                ids[start : start + chunk], paths[start : start + chunk], strict=True
            ):
                digest = _file_hash(Path(path))
                if digest is not None:
                    values[str(sample_id)] = digest
            if values:
                self.store.dataset.set_values(HASH_FIELD, values, key_field="id")
            done += len(values)
        return done


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
