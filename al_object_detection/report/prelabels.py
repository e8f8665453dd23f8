"""What annotators did to the pre-labels: kept, moved, relabelled, deleted, added.

Pre-labels and final labels of one image are matched one to one by IoU (the assignment that
maximises total IoU among pairs with IoU >= ``MATCH_IOU``, class-agnostic). A matched pair is
*kept* when the class is the same and the box barely moved (IoU >= ``KEEP_IOU``), *moved* when
the class is the same and the box changed, *relabelled* when the class changed; an unmatched
pre-label was *deleted*, an unmatched final label *added*.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

MATCH_IOU = 0.5
KEEP_IOU = 0.9
#: a box: (label, [x, y, w, h]) in relative coordinates, as FiftyOne stores it
Box = tuple[str, Sequence[float]]


@dataclass(frozen=True)
class Edits:
    """Counts of what happened to the pre-labels of some images."""

    kept: int = 0
    moved: int = 0
    relabelled: int = 0
    deleted: int = 0
    added: int = 0

    @property
    def prelabels(self) -> int:
        """Pre-labels shown to the annotators."""
        return self.kept + self.moved + self.relabelled + self.deleted

    @property
    def final(self) -> int:
        """Boxes in the final labels."""
        return self.kept + self.moved + self.relabelled + self.added

    @property
    def corrected(self) -> int:
        """Pre-labels the annotators had to touch (moved, relabelled or deleted)."""
        return self.moved + self.relabelled + self.deleted

    @property
    def acceptance(self) -> float | None:
        """Share of pre-labels kept as they were (None without pre-labels)."""
        return self.kept / self.prelabels if self.prelabels else None

    def __add__(self, other: Edits) -> Edits:
        return Edits(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    def as_dict(self) -> dict[str, int]:
        """The five counts, JSON-ready."""
        return asdict(self)


def total(edits: Iterable[Edits]) -> Edits:
    """The sum of several images' edits."""
    result = Edits()
    for one in edits:
        result = result + one
    return result


def compare(prelabels: Sequence[Box], final: Sequence[Box]) -> Edits:
    """What turned ``prelabels`` into ``final`` on one image."""
    from scipy.optimize import linear_sum_assignment

    if not prelabels or not final:
        return Edits(deleted=len(prelabels), added=len(final))
    ious = iou_matrix([b for _, b in prelabels], [b for _, b in final])
    rows, cols = linear_sum_assignment(np.where(ious >= MATCH_IOU, ious, 0.0), maximize=True)
    kept = moved = relabelled = 0
    matched = 0
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if ious[r, c] < MATCH_IOU:
            continue
        matched += 1
        if prelabels[r][0] != final[c][0]:
            relabelled += 1
        elif ious[r, c] >= KEEP_IOU:
            kept += 1
        else:
            moved += 1
    return Edits(kept, moved, relabelled, len(prelabels) - matched, len(final) - matched)


def iou_matrix(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> NDArray[np.float64]:
    """IoU of every box in ``a`` with every box in ``b`` (``[x, y, w, h]`` boxes)."""
    boxes_a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    boxes_b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax0, ay0 = boxes_a[:, 0:1], boxes_a[:, 1:2]
    ax1, ay1 = ax0 + boxes_a[:, 2:3], ay0 + boxes_a[:, 3:4]
    bx0, by0 = boxes_b[:, 0], boxes_b[:, 1]
    bx1, by1 = bx0 + boxes_b[:, 2], by0 + boxes_b[:, 3]
    w = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0.0, None)
    h = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0.0, None)
    inter = w * h
    union = boxes_a[:, 2:3] * boxes_a[:, 3:4] + boxes_b[:, 2] * boxes_b[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
