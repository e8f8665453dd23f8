"""The one place that makes ultralytics, FiftyOne and transformers run without a network.

Call :func:`activate` before the first import of any of them (the adapters do it for you).
It only sets environment variables, writes ultralytics' config folder inside the project's
state dir (fonts included, so nothing is downloaded while plotting) and sets the thread count
to the machine's cores. It never opens a connection.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from al_object_detection.paths import default_state_dir

#: Variables forced on: each one switches off a hub, a telemetry ping or an auto-install.
_FORCED_ENV = {
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "FIFTYONE_DO_NOT_TRACK": "true",
    "FIFTYONE_DATABASE_VALIDATION": "false",
    "FIFTYONE_SHOW_PROGRESS_BARS": "false",
    "DO_NOT_TRACK": "1",
}
_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


@dataclass(frozen=True)
class Runtime:
    """Where the offline runtime keeps its files, and how many threads it uses."""

    state_dir: Path
    yolo_config_dir: Path
    threads: int


_active: Runtime | None = None


def activate(state_dir: Path | str | None = None, *, threads: int | None = None) -> Runtime:
    """Make the ML stack offline; idempotent (the first call's state dir wins: a project's,
    else :func:`~al_object_detection.paths.default_state_dir`)."""
    global _active
    if _active is not None:
        return _active
    root = Path(state_dir or default_state_dir()).resolve()
    n_threads = threads or len(os.sched_getaffinity(0))
    yolo_dir = root / "ultralytics"
    _install_fonts(yolo_dir / "Ultralytics")
    os.environ.update(_FORCED_ENV)
    os.environ["YOLO_CONFIG_DIR"] = str(yolo_dir)
    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    os.environ.setdefault("MPLCONFIGDIR", str(root / "matplotlib"))
    os.environ.setdefault("YOLO_VERBOSE", "False")  # progress comes from our own log lines
    _active = Runtime(state_dir=root, yolo_config_dir=yolo_dir, threads=n_threads)
    if "ultralytics" in sys.modules:
        configure_ultralytics()
    return _active


def configure_ultralytics() -> None:
    """Import ultralytics offline and apply what it only takes after import: no sync, threads."""
    runtime = activate()
    import torch
    from PIL import Image
    from ultralytics.utils import SETTINGS, patches, torch_utils

    # ultralytics patches PIL.Image.open process-wide to pip-install a HEIF plugin whenever a
    # file is not an image; undo it: unreadable files must fail as PIL's own errors, offline
    Image.open = patches._image_open

    if SETTINGS.get("sync", True):
        SETTINGS.update(sync=False)
    if SETTINGS.get("raytune", True):  # Ray runs our prediction, not a tuner: no Tune callback
        SETTINGS.update(raytune=False)
    torch_utils.NUM_THREADS = runtime.threads  # ultralytics resets torch to this before training
    torch.set_num_threads(runtime.threads)


def _install_fonts(folder: Path) -> None:
    """Copy matplotlib's DejaVu font under the names ultralytics would otherwise download."""
    missing = [folder / name for name in _FONT_NAMES if not (folder / name).exists()]
    if not missing:
        return
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed; it ships the font ultralytics needs")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    source = package_dir / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    folder.mkdir(parents=True, exist_ok=True)
    for target in missing:
        shutil.copyfile(source, target)
