"""Matching pre-labels to final labels: every kind of edit, and the acceptance rate."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.report.prelabels import Edits, compare, iou_matrix, total

BOX = [0.1, 0.1, 0.2, 0.2]


def shifted(box: list[float], dx: float) -> list[float]:
    return [box[0] + dx, *box[1:]]


def test_each_kind_of_edit_is_counted() -> None:
    far = [0.7, 0.7, 0.1, 0.1]
    other = [0.4, 0.1, 0.2, 0.2]
    gone = [0.1, 0.6, 0.1, 0.1]
    prelabels = [("cat", BOX), ("dog", shifted(other, 0.0)), ("cat", gone), ("dog", far)]
    final = [
        ("cat", shifted(BOX, 0.005)),  # barely moved: kept
        ("cat", other),  # same box, new class: relabelled
        ("dog", shifted(far, 0.03)),  # moved (IoU ~0.54)
        ("cat", [0.5, 0.4, 0.1, 0.1]),  # drawn from scratch: added
    ]
    edits = compare(prelabels, final)
    assert edits == Edits(kept=1, moved=1, relabelled=1, deleted=1, added=1)
    assert edits.prelabels == 4
    assert edits.final == 4
    assert edits.corrected == 3
    assert edits.acceptance == pytest.approx(0.25)


def test_matching_is_one_to_one_and_prefers_the_best_overlap() -> None:
    prelabels = [("cat", BOX), ("cat", shifted(BOX, 0.02))]
    final = [("cat", shifted(BOX, 0.02))]
    assert compare(prelabels, final) == Edits(kept=1, deleted=1)


def test_no_prelabels_means_everything_was_added() -> None:
    edits = compare([], [("cat", BOX), ("dog", BOX)])
    assert edits == Edits(added=2)
    assert edits.acceptance is None
    assert compare([("cat", BOX)], []) == Edits(deleted=1)


def test_totals_add_up() -> None:
    assert total([Edits(kept=2, added=1), Edits(moved=1, deleted=3)]) == Edits(2, 1, 0, 3, 1)


def test_iou_of_known_boxes() -> None:
    ious = iou_matrix([[0, 0, 1, 1], [0, 0, 0.5, 0.5]], [[0, 0, 1, 1], [2, 2, 1, 1]])
    np.testing.assert_allclose(ious, [[1.0, 0.0], [0.25, 0.0]])
