"""The original module's ``ZeroShotModelInitializer``: round 0 for a project with no detector.

A zero-shot model (OWLv2) predicts on the pool from the class names; the sampler picks the
first batch (diversity on the zero-shot embeddings by default); the annotator gets it with the
zero-shot boxes as pre-labels; the first YOLO model is trained on the corrected labels. It is
round 0 of the same engine and state file, so ``ObjectDetectionActiveLearner`` (or the daemon)
continues from round 1 with the same ``state_path``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.learner import ObjectDetectionActiveLearner
from al_object_detection.strategies import DiversitySampler

if TYPE_CHECKING:
    from al_object_detection.adapters.annotation.protocol import Annotator
    from al_object_detection.adapters.detection.yolo import YOLOv8_ALObjectDetector
    from al_object_detection.adapters.zero_shot.owlv2 import ZeroShot_ALObjectDetector
    from al_object_detection.strategies.base import BaseSampler


class ZeroShotModelInitializer:
    """Bootstraps the first detector from zero-shot pre-labels and one human-corrected batch."""

    def __init__(
        self,
        dataset: Any,  # a FiftyOne dataset, or its FiftyOneStore
        zero_shot_model: ZeroShot_ALObjectDetector,
        al_model: YOLOv8_ALObjectDetector,
        sampler: BaseSampler | None = None,
        annotator: Annotator | None = None,
        *,
        budget: int = 32,
        seed: int = 0,
        poll_interval_s: float = 30.0,
        state_path: Path | str | None = None,
        workdir: Path | str | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.learner = ObjectDetectionActiveLearner(
            dataset,
            al_model,
            sampler if sampler is not None else DiversitySampler(),
            annotator,
            budget=budget,
            rounds=0,
            bootstrap="zero_shot",
            bootstrap_size=budget,
            seed=seed,
            poll_interval_s=poll_interval_s,
            state_path=state_path,
            workdir=workdir,
            zero_shot_model=zero_shot_model,
            log=log,
        )

    def run_model_initialization(self) -> Path:
        """Run (or resume) round 0; returns the first trained detector's weights."""
        first = self.learner.run_active_learning()[0]
        if first.model_path is None:
            raise RuntimeError(f"round 0 ended as {first.state!r} without a trained model")
        return Path(first.model_path)
