"""A FiftyOne saved view per round, ``round-N-picks``, so the App shows the report's picks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def view_name(round_index: int) -> str:
    """The saved view's name for one round."""
    return f"round-{round_index}-picks"


def save_picks_view(dataset: Any, round_index: int, sample_ids: Sequence[str]) -> str:
    """Save (or replace) the view of the round's picks, in the order they were picked."""
    name = view_name(round_index)
    dataset.save_view(
        name,
        dataset.select(list(sample_ids), ordered=True),
        description=f"the images picked in round {round_index}, best first",
        overwrite=True,
    )
    return name
