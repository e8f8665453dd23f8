"""A cost model of annotation from what annotators actually spent.

Each round with a recorded annotation time is one observation: ``seconds ~ per_image * images
+ per_new_box * added + per_corrected * corrected`` (corrected: pre-labels moved, relabelled or
deleted). The three rates are a non-negative least-squares fit, refitted each round, pulled
towards ``PRIORS`` as if the priors were one more round of evidence: with no data the model is
the priors, with many rounds the data dominate. Two behaviour ratios turn a candidate's
predicted boxes into expected work: corrected and added boxes per pre-label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CostObservation:
    """One round's annotation: seconds spent, images, boxes added, pre-labels corrected."""

    seconds: float
    images: int
    added: int
    corrected: int
    prelabels: int


@dataclass(frozen=True)
class CostModel:
    """Seconds per image, per new box and per corrected pre-label; behaviour ratios."""

    per_image: float
    per_new_box: float
    per_corrected: float
    corrected_ratio: float
    added_ratio: float
    rounds: int = 0

    def image_seconds(self, predicted_boxes: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Expected seconds to annotate images with ``predicted_boxes`` pre-labels each."""
        boxes = np.asarray(predicted_boxes, dtype=np.float64)
        per_box = self.corrected_ratio * self.per_corrected + self.added_ratio * self.per_new_box
        return np.asarray(self.per_image + boxes * per_box)

    def describe(self) -> str:
        """One line: the rates and what they were fitted from."""
        basis = f"fitted on {self.rounds} rounds" if self.rounds else "priors, no time recorded yet"
        return (
            f"{self.per_image:.1f} s per image + {self.per_new_box:.1f} s per new box + "
            f"{self.per_corrected:.1f} s per corrected pre-label ({basis})"
        )


#: box drawing ~7 s (extreme clicking, Papadopoulos et al. 2017), a glance per image, a fix
PRIORS = CostModel(
    per_image=5.0, per_new_box=7.0, per_corrected=3.0, corrected_ratio=0.3, added_ratio=0.3
)
_PSEUDO_PRELABELS = 10.0  # weight of the prior behaviour ratios, in pre-labels


def fit_cost_model(
    observations: Sequence[CostObservation], prior: CostModel = PRIORS, prior_weight: float = 1.0
) -> CostModel:
    """The rates that best explain the observed seconds, regularised towards ``prior``."""
    from scipy.optimize import nnls

    timed = [o for o in observations if o.seconds > 0 and o.images > 0]
    design = np.array([[o.images, o.added, o.corrected] for o in timed], dtype=np.float64)
    seconds = np.array([o.seconds for o in timed], dtype=np.float64)
    prior_rates = np.array([prior.per_image, prior.per_new_box, prior.per_corrected])
    scale = design.mean(axis=0) if len(timed) else np.ones(3)
    scale = np.where(scale > 0, scale, 1.0) * np.sqrt(prior_weight)
    rates, _ = nnls(
        np.vstack([design.reshape(-1, 3), np.diag(scale)]),
        np.concatenate([seconds, scale * prior_rates]),
    )
    prelabels = sum(o.prelabels for o in observations)
    pseudo = _PSEUDO_PRELABELS

    def ratio(count: int, prior_ratio: float) -> float:
        return (count + prior_ratio * pseudo) / (prelabels + pseudo)

    with_prelabels = [o for o in observations if o.prelabels > 0]
    return CostModel(
        per_image=float(rates[0]),
        per_new_box=float(rates[1]),
        per_corrected=float(rates[2]),
        corrected_ratio=ratio(sum(o.corrected for o in with_prelabels), prior.corrected_ratio),
        added_ratio=ratio(sum(o.added for o in with_prelabels), prior.added_ratio),
        rounds=len(timed),
    )
