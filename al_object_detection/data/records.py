"""Common record types for detection datasets and the error raised on bad input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SPLITS = ("pool", "val")
MAX_LISTED_PROBLEMS = 20

Boxes = npt.NDArray[np.float32]


class DataError(ValueError):
    """Bad input data; the message names every offending file and its problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.problems: tuple[tuple[str, str], ...] = ((str(path), problem),)
        super().__init__(f"{path}: {problem}")

    @classmethod
    def from_problems(cls, problems: Sequence[tuple[Path | str, str]]) -> DataError:
        """One error listing many (path, problem) pairs, truncated after 20 lines."""
        if not problems:
            raise ValueError("from_problems needs at least one problem")
        error = cls(*problems[0])
        error.problems = tuple((str(path), problem) for path, problem in problems)
        if len(problems) > 1:
            lines = [f"  {path}: {problem}" for path, problem in error.problems]
            shown = lines[:MAX_LISTED_PROBLEMS]
            if len(lines) > MAX_LISTED_PROBLEMS:
                shown.append(f"  and {len(lines) - MAX_LISTED_PROBLEMS} more")
            header = f"{len(problems)} problems in the input data:"
            error.args = ("\n".join([header, *shown]),)
        return error


def raise_problems(problems: Sequence[tuple[Path | str, str]]) -> None:
    """Raise one DataError listing all problems, if there are any."""
    if problems:
        raise DataError.from_problems(problems)


@dataclass(frozen=True, eq=False)
class LabeledImage:
    """One image and its boxes.

    boxes: (n, 4) float32, relative [x_min, y_min, width, height] in [0, 1]
    (FiftyOne's convention); None means unlabeled (no label file), an empty
    (0, 4) array means labeled with no objects. split is "pool" or "val";
    group ties images that must share a split (e.g. the same source photo).
    """

    filepath: Path
    width: int
    height: int
    boxes: Boxes | None
    labels: tuple[str, ...] = ()
    split: str = "pool"
    group: str = ""

    def __post_init__(self) -> None:
        if not self.filepath.is_absolute():
            raise ValueError(f"filepath must be absolute: {self.filepath}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"{self.filepath}: non-positive size {self.width}x{self.height}")
        if self.split not in SPLITS:
            raise ValueError(f"{self.filepath}: split {self.split!r} is not one of {SPLITS}")
        if self.boxes is None:
            if self.labels:
                raise ValueError(f"{self.filepath}: labels given for an unlabeled image")
            return
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"{self.filepath}: boxes must have shape (n, 4)")
        if len(self.labels) != len(self.boxes):
            raise ValueError(f"{self.filepath}: {len(self.boxes)} boxes, {len(self.labels)} labels")

    @property
    def is_labeled(self) -> bool:
        """Whether the image has a label (possibly with no objects)."""
        return self.boxes is not None


@dataclass(frozen=True, eq=False)
class DetectionData:
    """A dataset: the class names and its images."""

    classes: tuple[str, ...]
    images: tuple[LabeledImage, ...]

    def __post_init__(self) -> None:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"duplicate class names in {self.classes}")
        known = set(self.classes)
        for image in self.images:
            unknown = set(image.labels) - known
            if unknown:
                raise ValueError(f"{image.filepath}: labels {sorted(unknown)} not in classes")

    def split(self, name: str) -> tuple[LabeledImage, ...]:
        """The images of one split."""
        return tuple(image for image in self.images if image.split == name)
