"""Fill a round's budget in any unit: the longest prefix of a ranking that the budget pays for.

Samplers rank images; what an image costs (1 image, its expected boxes, its expected seconds of
annotation) is known outside them. ``fill_budget`` takes the ranked candidates' costs and says
how many to take, so every strategy works with every budget unit unchanged; ``choose_within``
asks a sampler for a ranking long enough to fill the budget and takes that prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.base import Selection, Strategy
from al_object_detection.strategies.pool import Pool


@dataclass(frozen=True)
class BudgetFill:
    """How much of a ranking to take.

    ``count`` candidates, costing ``spent`` in all; ``exhausted`` when all of them fit with
    budget to spare (a longer ranking might pay for more).
    """

    count: int
    spent: float
    exhausted: bool


def fill_budget(costs: Array, budget: float) -> BudgetFill:
    """The longest prefix of ranked ``costs`` whose total stays within ``budget``.

    The first candidate is always taken, even when it alone costs more than the budget, so a
    round never picks nothing while candidates remain. Costs must be finite and >= 0.
    """
    values = np.asarray(costs, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("costs must be finite and >= 0")
    if not np.isfinite(budget) or budget < 0:
        raise ValueError(f"budget must be a finite number >= 0, got {budget}")
    if len(values) == 0 or budget == 0:
        return BudgetFill(0, 0.0, exhausted=len(values) == 0 and budget > 0)
    totals = np.cumsum(values)
    count = max(1, int(np.searchsorted(totals, budget, side="right")))
    spent = float(totals[count - 1])
    return BudgetFill(count, spent, exhausted=count == len(values) and spent < budget)


def choose_within(
    sampler: Strategy,
    pool: Pool,
    budget: float,
    costs: Array,
    *,
    rng: np.random.Generator,
    max_count: int | None = None,
) -> Selection:
    """The sampler's best-first picks that fill ``budget`` given each pool image's cost.

    The sampler is asked for a ranking about twice as long as the budget should need (from
    the pool's mean cost), doubled while the whole ranking fits with budget to spare, up to
    the pool (or ``max_count`` images).
    """
    values = np.asarray(costs, dtype=np.float64).reshape(-1)
    if len(values) != pool.n_images:
        raise ValueError(f"{len(values)} costs for a pool of {pool.n_images} images")
    limit = pool.n_images if max_count is None else min(pool.n_images, max_count)
    mean = float(values.mean()) if len(values) else 0.0
    wanted = limit if mean <= 0 else min(limit, max(1, math.ceil(2 * budget / mean)))
    while True:
        ranked = sampler.choose(pool, wanted, rng=rng)
        fill = fill_budget(values[ranked.positions], budget)
        if not fill.exhausted or wanted >= limit or len(ranked) < wanted:
            return _head(ranked, fill.count)
        wanted = min(limit, 2 * wanted)


def _head(selection: Selection, count: int) -> Selection:
    return Selection(
        selection.positions[:count], selection.scores[:count], selection.reasons[:count]
    )
