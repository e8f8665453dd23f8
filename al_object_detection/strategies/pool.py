"""``Pool``: everything one round's selection sees, as plain arrays."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.parallel import map_chunks

_CHECK_ROWS = 1 << 20


@dataclass(frozen=True, eq=False)
class Pool:
    """The unlabeled images of one round and what the strategies know about them.

    ``box_scores`` holds every box of every image, one row of class scores in [0, 1] per
    box; image ``i`` owns rows ``box_offsets[i]:box_offsets[i + 1]``. Labeled images are not
    in the pool; their embeddings and per-class box counts only inform the scores.
    ``class_ap`` is the last evaluation's AP per class in [0, 1] (NaN: not measured). Arrays
    are checked and kept as float32 (int64 offsets, object ids); float32 input is not copied.
    """

    sample_ids: Array
    box_scores: Array
    box_offsets: Array
    embeddings: Array | None = None
    labeled_embeddings: Array | None = None
    labeled_class_counts: Array | None = None
    class_ap: Array | None = None

    def __post_init__(self) -> None:
        ids = np.asarray(self.sample_ids, dtype=object)
        if ids.ndim != 1:
            raise ValueError(f"sample_ids must be 1-D, got shape {ids.shape}")
        n = len(ids)
        if len(set(ids.tolist())) != n:
            raise ValueError(
                f"sample_ids must be unique; {_repeated(ids)!r} appears more than once"
            )
        offsets = _offsets(self.box_offsets, n)
        scores = _box_scores(self.box_scores, int(offsets[-1]))
        emb = _matrix("embeddings", self.embeddings, rows=n)
        dim = emb.shape[1] if emb is not None else None
        labeled = _matrix("labeled_embeddings", self.labeled_embeddings, cols=dim)
        counts = _class_counts(self.labeled_class_counts, scores.shape[1])
        class_ap = _class_ap(self.class_ap, scores.shape[1])
        for name, value in (
            ("sample_ids", ids),
            ("box_offsets", offsets),
            ("box_scores", scores),
            ("embeddings", emb),
            ("labeled_embeddings", labeled),
            ("labeled_class_counts", counts),
            ("class_ap", class_ap),
        ):
            object.__setattr__(self, name, value)

    @property
    def n_images(self) -> int:
        """Number of pool images."""
        return len(self.sample_ids)

    @property
    def n_labeled(self) -> int:
        """Number of labeled images whose embeddings the pool carries (0 without embeddings)."""
        return 0 if self.labeled_embeddings is None else len(self.labeled_embeddings)

    @property
    def n_classes(self) -> int:
        """Number of classes in the score vectors."""
        return int(self.box_scores.shape[1])

    @classmethod
    def from_lists(
        cls,
        sample_ids: Sequence[object],
        box_scores: Sequence[Array],
        *,
        n_classes: int,
        embeddings: Array | None = None,
        labeled_embeddings: Array | None = None,
        labeled_class_counts: Array | None = None,
        class_ap: Array | None = None,
    ) -> Pool:
        """Build a pool from one (boxes, n_classes) score array per image."""
        if len(sample_ids) != len(box_scores):
            raise ValueError(
                f"got {len(sample_ids)} sample ids but {len(box_scores)} box score arrays"
            )
        per_image = [np.asarray(s, dtype=np.float32).reshape(-1, n_classes) for s in box_scores]
        lengths = [len(s) for s in per_image]
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        scores = np.concatenate(per_image) if per_image else np.zeros((0, n_classes), np.float32)
        return cls(
            np.asarray(sample_ids, dtype=object),
            scores,
            offsets,
            embeddings,
            labeled_embeddings,
            labeled_class_counts,
            class_ap,
        )

    def subset(self, positions: Array, *, also_labeled: Array | None = None) -> Pool:
        """The pool cut down to ``positions``; embeddings at ``also_labeled`` count as labeled."""
        pos = np.asarray(positions, dtype=np.int64)
        starts, ends = self.box_offsets[pos], self.box_offsets[pos + 1]
        lengths = ends - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        rows = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        labeled = self.labeled_embeddings
        if also_labeled is not None and len(also_labeled) and self.embeddings is not None:
            extra = self.embeddings[np.asarray(also_labeled, dtype=np.int64)]
            labeled = extra if labeled is None else np.concatenate([labeled, extra])
        return Pool(
            self.sample_ids[pos],
            self.box_scores[rows],
            offsets,
            None if self.embeddings is None else self.embeddings[pos],
            labeled,
            self.labeled_class_counts,
            self.class_ap,
        )


def _repeated(ids: Array) -> object:
    return Counter(ids.tolist()).most_common(1)[0][0]


def _offsets(value: Array, n: int) -> Array:
    offsets = np.asarray(value)
    if offsets.shape != (n + 1,) or not np.issubdtype(offsets.dtype, np.integer):
        raise ValueError(
            f"box_offsets must be {n + 1} integers (one more than sample_ids), "
            f"got shape {offsets.shape} of {offsets.dtype}"
        )
    offsets = offsets.astype(np.int64)
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise ValueError("box_offsets must start at 0 and never decrease")
    return offsets


def _box_scores(value: Array, n_boxes: int) -> Array:
    scores = np.asarray(value, dtype=np.float32)
    if scores.ndim != 2 or len(scores) != n_boxes:
        raise ValueError(
            f"box_scores must be 2-D (boxes, classes) with {n_boxes} rows "
            f"(box_offsets[-1]), got shape {scores.shape}"
        )
    if scores.size:
        lo, hi = _min_max(scores)
        if not (lo >= 0.0 and hi <= 1.0):
            raise ValueError(
                f"box_scores must be class probabilities in [0, 1] with no NaN or inf; "
                f"found values from {lo} to {hi} (logits? NaN from a diverged model?)"
            )
    return scores


def _min_max(scores: Array) -> tuple[float, float]:
    """Smallest and largest value of a non-empty array (NaN if any is NaN), on all cores."""
    parts = map_chunks(
        lambda part: (scores[part].min(), scores[part].max()), len(scores), _CHECK_ROWS
    )
    ends = np.array(parts, dtype=np.float32)
    return float(ends[:, 0].min()), float(ends[:, 1].max())


def _matrix(
    name: str, value: Array | None, *, rows: int | None = None, cols: int | None = None
) -> Array | None:
    if value is None:
        return None
    m = np.asarray(value, dtype=np.float32)
    if (
        m.ndim != 2
        or (rows is not None and len(m) != rows)
        or (cols is not None and m.shape[1] != cols)
    ):
        want = f"({rows if rows is not None else 'rows'}, {cols if cols is not None else 'dim'})"
        raise ValueError(f"{name} must have shape {want}, got {m.shape}")
    if m.size and not all(np.isfinite(_min_max(m))):
        raise ValueError(
            f"{name} holds NaN or inf in {int((~np.isfinite(m)).any(axis=1).sum())} rows"
        )
    return m


def _class_counts(value: Array | None, n_classes: int) -> Array | None:
    if value is None:
        return None
    counts = np.asarray(value, dtype=np.float64)
    if counts.shape != (n_classes,):
        raise ValueError(
            f"labeled_class_counts must have one count per class ({n_classes}), got {counts.shape}"
        )
    if not (np.isfinite(counts).all() and (counts >= 0).all()):
        raise ValueError("labeled_class_counts must be finite counts >= 0")
    return counts


def _class_ap(value: Array | None, n_classes: int) -> Array | None:
    if value is None:
        return None
    ap = np.asarray(value, dtype=np.float64)
    if ap.shape != (n_classes,):
        raise ValueError(f"class_ap must have one value per class ({n_classes}), got {ap.shape}")
    measured = ap[~np.isnan(ap)]
    if not ((measured >= 0) & (measured <= 1)).all():
        raise ValueError("class_ap values must lie in [0, 1] (NaN: not measured)")
    return ap
