"""docs/dashboard.png: the dashboard's panels drawn with matplotlib from a live Prometheus' range queries.

The live monitoring test calls `draw_dashboard` when BRAIN_DASHBOARD_PNG names a file (`make dashboard-png`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: draw straight to a file

import matplotlib.pyplot as plt  # noqa: E402  after choosing the backend

from monitoring.dashboard import PanelSpec  # noqa: E402

Series = list[tuple[dict[str, str], list[tuple[float, float]]]]
COLUMNS = 2
PERCENT_UNITS = {"percentunit"}


def _legend(template: str, labels: dict[str, str]) -> str:
    text = template
    for key, value in labels.items():
        text = text.replace(f"{{{{{key}}}}}", value)
    return text


def draw_dashboard(
    panels: Sequence[PanelSpec], query_range: Callable[[str], Series], start: float, title: str, path: Path
) -> None:
    """One subplot per panel, one line per series, time in seconds since `start`."""
    rows = (len(panels) + COLUMNS - 1) // COLUMNS
    figure, axes = plt.subplots(rows, COLUMNS, figsize=(14, 3.2 * rows), squeeze=False)
    for axis, panel in zip(axes.flat, panels):
        for query in panel.queries:
            for labels, points in query_range(query.expr):
                scale = 100 if panel.unit in PERCENT_UNITS else 1
                axis.plot([t - start for t, _ in points], [v * scale for _, v in points],
                          label=_legend(query.legend, labels))
        axis.set_title(panel.title, fontsize=10)
        axis.set_xlabel("seconds into the run", fontsize=8)
        axis.set_ylabel("%" if panel.unit in PERCENT_UNITS else panel.unit, fontsize=8)
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(fontsize=7, loc="best")
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
