"""The report as one self-contained HTML page: inline CSS, images as ``data:`` URIs, no links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from al_object_detection.report.costs import CostModel
from al_object_detection.report.records import round_edits
from al_object_detection.report.stopping import StopDecision

SECTIONS = {
    "learning-curve": "Learning curve",
    "per-class": "Per-class AP",
    "picks": "Picked images and why",
    "prelabels": "What annotators did to the pre-labels",
    "annotation-time": "Annotation time",
    "cost-model": "Cost model",
    "stopping": "When to stop",
}

NONE = "&ndash;"  # an empty cell

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{margin-bottom:4px} .sub{color:#666;margin-top:0}
section{margin:28px 0} table{border-collapse:collapse;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}
.up{color:#1a7f37}.down{color:#cf222e}.note{color:#666;font-size:13px}
.picks{display:flex;flex-wrap:wrap;gap:12px}
.pick{width:210px;border:1px solid #ddd;border-radius:6px;padding:6px;font-size:12px;
overflow-wrap:anywhere}
.pick img{width:200px;display:block;margin-bottom:4px}
.key span{display:inline-block;width:12px;height:3px;margin:0 4px 3px 10px}
"""


@dataclass(frozen=True)
class PageData:
    """What one round's page shows."""

    project: str
    round: int
    generated_at: str
    records: Sequence[dict[str, Any]]  # rounds 0..round, oldest first
    chart_uri: str
    thumbnails: dict[str, str | None]  # sample id -> data URI
    cost_model: CostModel
    decision: StopDecision | None
    min_gain: float | None
    view_name: str


def render_page(data: PageData) -> str:
    """The whole HTML document."""
    current = data.records[-1]
    body = [
        f"<h1>{escape(data.project)}: round {data.round}</h1>",
        f'<p class="sub">generated {escape(data.generated_at)}; '
        f"{current['labeled_images']} labeled images, {current['labeled_boxes']} boxes; "
        f"FiftyOne saved view <code>{escape(data.view_name)}</code></p>",
        _section("learning-curve", _learning_curve(data)),
        _section("per-class", _per_class(data.records)),
        _section("picks", _picks(current, data.thumbnails)),
        _section("prelabels", _prelabels(data.records)),
        _section("annotation-time", _timing(data.records)),
        _section("cost-model", _costs(data.cost_model)),
        _section("stopping", _stopping(data.decision, data.min_gain)),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(data.project)} round {data.round}</title><style>{_STYLE}</style>"
        f"</head><body>{''.join(body)}</body></html>\n"
    )


def write_page(path: Path, html_text: str) -> None:
    """Write the page atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(html_text, encoding="utf-8")
    partial.replace(path)


def _section(key: str, content: str) -> str:
    return f'<section id="{key}"><h2>{SECTIONS[key]}</h2>{content}</section>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(value: Any, digits: int = 3) -> str:
    return NONE if value is None else f"{float(value):.{digits}f}"


def _delta(value: float | None) -> str:
    if value is None:
        return NONE
    css = "up" if value > 0 else "down" if value < 0 else ""
    return f'<span class="{css}">{value:+.3f}</span>'


def _learning_curve(data: PageData) -> str:
    rows = [
        [str(r["round"]), str(r["labeled_images"]), str(r["labeled_boxes"]),
         _num(r["metrics"].get("map50")), _num(r["metrics"].get("map50_95"))]
        for r in data.records
    ]  # fmt: skip
    return f'<img alt="learning curve" src="{data.chart_uri}">' + _table(
        ["round", "labeled images", "labeled boxes", "mAP50", "mAP50-95"], rows
    )


def _per_class(records: Sequence[dict[str, Any]]) -> str:
    now = records[-1]["metrics"].get("per_class") or {}
    before = (records[-2]["metrics"].get("per_class") or {}) if len(records) > 1 else {}
    if not now:
        return '<p class="note">no per-class metrics recorded for this round</p>'
    rows = []
    for name, values in sorted(now.items()):
        previous = before.get(name) or {}
        change = (
            values["map50_95"] - previous["map50_95"]
            if values.get("map50_95") is not None and previous.get("map50_95") is not None
            else None
        )
        rows.append([escape(name), _num(values.get("map50")), _num(values.get("map50_95")),
                     _delta(change)])  # fmt: skip
    return _table(["class", "AP50", "AP50-95", "AP50-95 change since the previous round"], rows)


def _picks(record: dict[str, Any], thumbnails: dict[str, str | None]) -> str:
    picks = record["picks"]
    if not picks:
        return '<p class="note">this round picked no images</p>'
    cards = []
    for rank, pick in enumerate(picks, start=1):
        uri = thumbnails.get(pick["id"])
        image = f'<img alt="pick {rank}" src="{uri}">' if uri else "<p>(image unreadable)</p>"
        classes = _class_counts(pick["labels"])
        prelabels = pick["prelabels"]
        shown = "not recorded" if prelabels is None else str(len(prelabels))
        score = "" if pick["score"] is None else f" · score {pick['score']:.4g}"
        cards.append(
            f'<div class="pick">{image}<b>#{rank}</b> {escape(Path(pick["filepath"]).name)}'
            f"{score}<br>{escape(pick['reason'])}<br>labels: {escape(classes)}; "
            f"pre-labels: {shown}</div>"
        )
    key = (
        '<p class="key note">boxes:<span style="background:#28c850"></span>final labels'
        '<span style="background:#ff8c00"></span>pre-labels</p>'
    )
    return key + f'<div class="picks">{"".join(cards)}</div>'


def _class_counts(labels: Sequence[Any]) -> str:
    counts: dict[str, int] = {}
    for label, _ in labels:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "none"


def _prelabels(records: Sequence[dict[str, Any]]) -> str:
    rows = []
    for record in records:
        edits = round_edits(record)
        if edits is None:
            rows.append([str(record["round"])] + [NONE] * 7)
            continue
        rate = edits.acceptance
        rows.append([
            str(record["round"]), str(edits.prelabels), str(edits.kept), str(edits.moved),
            str(edits.relabelled), str(edits.deleted), str(edits.added),
            NONE if rate is None else f"{rate:.0%}",
        ])  # fmt: skip
    headers = ["round", "pre-labels", "kept", "moved", "relabelled", "deleted", "added",
               "acceptance"]  # fmt: skip
    return _table(headers, rows) + (
        '<p class="note">pre-labels and final labels matched one to one by IoU &ge; 0.5; kept: '
        "same class and IoU &ge; 0.9. Round 0 without a model has no pre-labels.</p>"
    )


def _timing(records: Sequence[dict[str, Any]]) -> str:
    rows = []
    for record in records:
        timing = record.get("annotation")
        labeled = [p for p in record["picks"] if p["labeled"]]
        boxes = sum(len(p["labels"]) for p in labeled)
        if not timing:
            rows.append([str(record["round"]), NONE, NONE, NONE, "not recorded"])
            continue
        seconds = float(timing["seconds"])
        rows.append([
            str(record["round"]), f"{seconds:.1f}",
            f"{seconds / len(labeled):.2f}" if labeled else NONE,
            f"{seconds / boxes:.2f}" if boxes else NONE, escape(timing["source"]),
        ])  # fmt: skip
    return _table(["round", "seconds", "per image", "per box", "measured as"], rows)


def _costs(model: CostModel) -> str:
    rows = [
        ["per image", f"{model.per_image:.2f} s"],
        ["per new box", f"{model.per_new_box:.2f} s"],
        ["per corrected pre-label", f"{model.per_corrected:.2f} s"],
        ["corrected per pre-label", f"{model.corrected_ratio:.2f}"],
        ["added per pre-label", f"{model.added_ratio:.2f}"],
    ]
    return f"<p>{escape(model.describe())}</p>" + _table(["rate", "value"], rows)


def _stopping(decision: StopDecision | None, min_gain: float | None) -> str:
    rule = (
        "no <code>[stop] min_gain</code> set: the fit is shown, the project does not stop on it"
        if min_gain is None
        else f"<code>[stop] min_gain = {min_gain:g}</code>"
    )
    if decision is None:
        return f"<p>{rule}</p><p>two evaluated rounds are needed for a fit</p>"
    if min_gain is None:
        shown = decision.forecast.describe() if decision.forecast else decision.reason
        return f"<p>{rule}</p><p>{escape(shown)}</p>"
    verdict = "stop" if decision.stop else "continue"
    return f"<p>{rule}</p><p><b>{verdict}</b>: {escape(decision.reason)}</p>"
