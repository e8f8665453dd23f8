"""A tiny real project for the daemon's tests: shapes data, the oracle, yolov8n at 64 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TINY_YOLO = {
    "train": {
        "epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "val": False,
        "device": "cpu",
    },
    "predict": {"imgsz": 64, "conf": 0.001, "max_det": 10, "device": "cpu"},
}  # fmt: skip


def toml_text(sections: dict[str, dict[str, Any]]) -> str:
    """A TOML document of flat sections (strings, numbers, booleans, lists of strings)."""
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value)


def write_project(
    root: Path,
    dataset: str,
    *,
    rounds: int = 1,
    budget: int = 4,
    bootstrap_size: int = 6,
    poll_interval_s: float = 0.2,
    daemon: dict[str, Any] | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write ``alod.toml`` (and the detector's TOML) for ``dataset`` under ``root``;
    ``sections`` adds or replaces keys of the other sections."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "yolo.toml").write_text(toml_text(TINY_YOLO))
    settings = {
        "watch": ["drop"], "settle_s": 0.2, "grace_s": 2.0, "shutdown_timeout_s": 15.0,
        "metrics_interval_s": 2.0, "rescan_interval_s": 30.0,
    }  # fmt: skip
    config: dict[str, dict[str, Any]] = {
        "project": {"name": "tiny", "state_dir": "state"},
        "dataset": {"name": dataset},
        "detector": {"model": "yolov8n.yaml", "config": "yolo.toml"},
        "sampling": {"budget": budget, "bootstrap_size": bootstrap_size},
        "annotation": {"backend": "oracle", "poll_interval_s": poll_interval_s},
        "stop": {"max_rounds": rounds},
        "daemon": {**settings, **(daemon or {})},
    }
    for name, values in (sections or {}).items():
        config[name] = {**config.get(name, {}), **values}
    path = root / "alod.toml"
    path.write_text(toml_text(config))
    return path


def load_shapes(dataset: str, shapes: Path) -> Any:
    """The FiftyOne store of a fresh dataset holding the shapes folder (pool labels hidden)."""
    from al_object_detection.adapters.dataset.store import FiftyOneStore
    from al_object_detection.data.yolo import read_yolo

    store = FiftyOneStore.open(dataset, create=True)
    store.add(read_yolo(shapes))
    return store
