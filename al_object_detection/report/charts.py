"""The report's charts as PNG ``data:`` URIs (matplotlib, no display, nothing fetched)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from al_object_detection.report.saturation import GainForecast


def learning_curve_uri(
    images: Sequence[float],
    boxes: Sequence[float],
    map50: Sequence[float | None],
    map50_95: Sequence[float | None],
    forecast: GainForecast | None,
) -> str:
    """mAP50 and mAP50-95 against labeled images (with the power-law fit) and labeled boxes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (by_images, by_boxes) = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    panels = ((by_images, images, "labeled images"), (by_boxes, boxes, "labeled boxes"))
    for axis, xs, label in panels:
        axis.plot(xs, _nan(map50), "o-", color="#1f77b4", label="mAP50")
        axis.plot(xs, _nan(map50_95), "s-", color="#d62728", label="mAP50-95")
        axis.set_xlabel(label)
        axis.grid(alpha=0.3)
    if forecast is not None:
        grid = np.linspace(min(images), forecast.n_next, 100)
        by_images.plot(grid, forecast.law(grid), "--", color="#d62728", alpha=0.6,
                       label=f"fit {forecast.law.describe()}")  # fmt: skip
        last = float(forecast.law(forecast.n_last))
        by_images.errorbar(
            [forecast.n_next], [last + forecast.gain],
            yerr=[[forecast.gain - forecast.low], [forecast.high - forecast.gain]],
            fmt="D", color="#d62728", mfc="white", capsize=4, label="next round (predicted)",
        )  # fmt: skip
    by_images.set_ylim(bottom=0.0)
    by_images.set_ylabel("validation mAP")
    by_images.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    return _png_uri(figure)


def _nan(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _png_uri(figure: Any) -> str:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
