"""Write a round's report: collect its record, fit the curve and the costs, render, save the view.

``write_report`` serves ``alod report`` and the daemon alike; ``after_evaluated_hook`` is what
the engine calls once a round is evaluated, and it never lets a report failure reach the round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.annotation.prelabels import PrelabelSettings
from al_object_detection.report.charts import learning_curve_uri
from al_object_detection.report.page import PageData, render_page, write_page
from al_object_detection.report.records import (
    collect_record,
    cost_model,
    load_record,
    save_record,
)
from al_object_detection.report.stopping import (
    PER_ROUND,
    StopDecision,
    curve_points,
    decide,
    next_round_images,
)
from al_object_detection.report.thumbnails import thumbnail_uri
from al_object_detection.report.views import save_picks_view, view_name
from al_object_detection.spec import EngineSpec
from al_object_detection.states import machine as m
from al_object_detection.states.store import Round, RoundStore, now

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore


@dataclass(frozen=True)
class ReportSettings:
    """What the report needs from the project config."""

    project: str
    reports_dir: Path
    budget_images: int | None = None  # the next round's size when the budget is in images
    min_gain: float | None = None
    min_gain_per: str = PER_ROUND
    prelabels: PrelabelSettings = field(default_factory=PrelabelSettings)  # what was shown


def report_path(reports_dir: Path, round_index: int) -> Path:
    """Where round ``round_index``'s page is written by default."""
    return reports_dir / f"round-{round_index:03d}.html"


def write_report(
    store: FiftyOneStore,
    rounds: RoundStore,
    settings: ReportSettings,
    round_index: int | None = None,
    *,
    out: Path | None = None,
) -> Path:
    """Write the report of ``round_index`` (default: the last evaluated round); its path."""
    evaluated = [r for r in rounds.rounds() if r.state == m.COMPLETED and r.metrics]
    if round_index is None:
        if not evaluated:
            raise ValueError("no evaluated round yet: the report needs one")
        round_index = evaluated[-1].round
    if round_index not in {r.round for r in evaluated}:
        known = ", ".join(str(r.round) for r in evaluated) or "none"
        raise ValueError(f"round {round_index} has not been evaluated (evaluated: {known})")
    records = [
        ensure_record(store, rounds, settings, r.round) for r in evaluated if r.round <= round_index
    ]
    points = curve_points(rounds, up_to=round_index)
    decision = _decision(points, settings)
    current = records[-1]
    name = save_picks_view(store.dataset, round_index, [p["id"] for p in current["picks"]])
    page = PageData(
        project=settings.project,
        round=round_index,
        generated_at=now(),
        records=records,
        chart_uri=learning_curve_uri(
            [r["labeled_images"] for r in records],
            [r["labeled_boxes"] for r in records],
            [r["metrics"].get("map50") for r in records],
            [r["metrics"].get("map50_95") for r in records],
            decision.forecast if decision else None,
        ),
        thumbnails={
            p["id"]: thumbnail_uri(p["filepath"], p["labels"], p["prelabels"])
            for p in current["picks"]
        },
        cost_model=cost_model(records),
        decision=decision,
        min_gain=settings.min_gain,
        view_name=name,
    )
    path = out or report_path(settings.reports_dir, round_index)
    write_page(path, render_page(page))
    return path


def ensure_record(
    store: FiftyOneStore, rounds: RoundStore, settings: ReportSettings, round_index: int
) -> dict[str, Any]:
    """The saved record of a round, collected and saved now if there is none."""
    record = load_record(settings.reports_dir, round_index)
    if record is None:
        save_record(
            settings.reports_dir, collect_record(store, rounds, round_index, settings.prelabels)
        )
        record = load_record(settings.reports_dir, round_index)
        assert record is not None
    return record


def after_evaluated_hook(
    store: FiftyOneStore, rounds: RoundStore, settings: ReportSettings, log: Callable[[str], None]
) -> Callable[[Round], None]:
    """The engine's call after each evaluated round: record it, then write its report."""

    def hook(evaluated: Round) -> None:
        record = collect_record(store, rounds, evaluated.round, settings.prelabels)
        save_record(settings.reports_dir, record)
        path = write_report(store, rounds, settings, evaluated.round)
        log(f"round {evaluated.round}: report {path} (FiftyOne view {view_name(evaluated.round)})")

    return hook


def _decision(points: list[Any], settings: ReportSettings) -> StopDecision | None:
    if len(points) < 2:
        return None
    next_images = next_round_images(points, settings.budget_images)
    return decide(
        points, min_gain=settings.min_gain or 0.0, per=settings.min_gain_per,
        next_images=next_images,
    )  # fmt: skip


def settings_for(spec: EngineSpec) -> ReportSettings:
    """The report settings of a project."""
    plan = spec.plan
    return ReportSettings(
        project=spec.project,
        reports_dir=spec.paths.reports_dir,
        budget_images=plan.budget if plan.budget_unit == "images" else None,
        min_gain=plan.stop.min_gain,
        min_gain_per=plan.stop.min_gain_per,
        prelabels=spec.annotation.prelabels(),
    )


def write_project_report(
    spec: EngineSpec, round_index: int | None = None, *, out: Path | None = None
) -> Path:
    """``alod report``: open the project's dataset and state file and write the report."""
    from al_object_detection.assembly import open_store

    state_file = spec.paths.state_file
    if not state_file.exists():
        raise FileNotFoundError(f"no state file at {state_file}: no round has run yet")
    rounds = RoundStore(state_file)
    try:
        return write_report(open_store(spec), rounds, settings_for(spec), round_index, out=out)
    finally:
        rounds.close()
