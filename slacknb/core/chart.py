"""The one chart engine: report state -> a PNG of the training curves.

The notebook widget, the text/html fallback and the Slack thread all show the
picture this module draws, so they cannot drift apart. Drawing uses
matplotlib's object API on the Agg canvas: no pyplot, so no global figure
state and no display backend, and it is safe off the main thread.

matplotlib is imported here only, when a chart is drawn: ``import slacknb``
never pays for it, and a missing matplotlib costs one line (``MISSING``), not
a failed run.

Cost is bounded in the log length: each series is reduced to at most two
points per horizontal pixel (the minimum and the maximum of the rows that fall
on that pixel) before matplotlib sees it, so a spike is never lost and a
100,000-row log draws about as fast as a 1,000-row one.
"""

from __future__ import annotations

import importlib
import io
import re
import threading
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from slacknb.core.series import MAX_PANELS, Columns, Panel, check_plot, decimate, panels

__all__ = [
    "MISSING", "MAX_PANELS", "ChartsUnavailable", "Columns", "Drawing", "available", "chart_filename", "chart_png",
    "check_plot", "final_drawing", "missing_once",
]

MISSING = "slacknb: charts are off because matplotlib is missing: pip install matplotlib"
# matplotlib is not thread-safe (shared font and text caches): the widget's
# drawing thread and the Slack worker draw one chart at a time.
_ONE_AT_A_TIME = threading.Lock()

# Sized for a phone: Slack and the notebook scale the picture to the screen's
# width: 800 px wide with 17 pt text (24 px) still reads as ~11 px text on a
# 390-px-wide phone screen.
WIDTH_PX, PANEL_PX, DPI = 800, 320, 100
FONT_PT, LINE_WIDTH = 17, 2.6
LEFT_PX, RIGHT_PX, TOP_PX, BOTTOM_PX, GAP_PX = 110, 20, 55, 75, 25
# Okabe-Ito: told apart by colour-blind readers and on a dim screen.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LOG_SCALE = 100  # a loss panel spanning more than this factor gets a log y axis (as {trend})
MARKERS_UP_TO = 30  # few points (one row per epoch) get markers, so one point shows


class ChartsUnavailable(ImportError):
    """matplotlib cannot be imported; ``str()`` is the one line to show."""


_told_missing = False


def missing_once() -> str | None:
    """``MISSING`` the first time a caller finds matplotlib missing in this process, then None.

    The widget and the Slack worker both need charts; the user needs one line.
    """
    global _told_missing
    if _told_missing or available() is None:
        return None
    _told_missing = True
    return MISSING


def available() -> str | None:
    """None when charts can be drawn, else the one line saying how to get them."""
    try:
        importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError:
        return MISSING
    return None


def _title(state) -> str:
    status = getattr(state.status, "value", state.status)
    label = getattr(state, "label", "")
    return f"{label} · {status}" if label else str(status)


def chart_png(state, *, plot: Sequence[str] | None = None, columns: Columns | None = None,
              upto: int | None = None) -> bytes | None:
    """The chart of ``state`` (a ``ReportState``) as PNG bytes; None when there is nothing to draw.

    ``plot`` chooses the entries (None: every ``*/loss`` and ``*/accuracy``;
    empty: no chart). ``columns``, kept across calls for one run, makes a
    redraw read only the rows added since; ``upto`` draws the first rows only
    (the log as it was when a snapshot was taken). Raises ``ChartsUnavailable`` when
    matplotlib is missing.
    """
    if plot is not None and not plot:
        return None
    x_key, shown = panels(state.log, plot, columns=columns, upto=upto)
    if not shown:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsUnavailable(MISSING) from None

    with _ONE_AT_A_TIME:
        return _draw(state, x_key, shown, Figure, FigureCanvasAgg)


def _draw(state, x_key: str | None, shown: list[Panel], Figure, FigureCanvasAgg) -> bytes:
    height = PANEL_PX * len(shown) + TOP_PX + BOTTOM_PX
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    # Fixed margins instead of a layout engine: the sizes are fixed, and
    # constrained layout would double the drawing time.
    figure.subplots_adjust(left=LEFT_PX / WIDTH_PX, right=1 - RIGHT_PX / WIDTH_PX,
                           top=1 - TOP_PX / height, bottom=BOTTOM_PX / height,
                           hspace=GAP_PX / (PANEL_PX - GAP_PX))
    axes_list = figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    figure.suptitle(_title(state), fontsize=FONT_PT + 1, fontweight="bold", y=1 - 12 / height, va="top")
    colours: dict[str, str] = {}
    for axes, panel in zip(axes_list, shown):
        for series in panel.series:
            colour = colours.setdefault(series.base, COLOURS[len(colours) % len(COLOURS)])
            x, y = decimate(series.x, series.y, WIDTH_PX)
            axes.plot(x, y, color=colour, linewidth=LINE_WIDTH, label=series.key,
                      linestyle="--" if series.dashed else "-",
                      marker="o" if len(x) <= MARKERS_UP_TO else None, markersize=5)
        _style(axes, panel)
    axes_list[-1].set_xlabel(x_key or "row", fontsize=FONT_PT)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _style(axes, panel: Panel) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_ylabel(panel.title, fontsize=FONT_PT)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(labelsize=FONT_PT - 2)
    axes.grid(True, color="#dddddd", linewidth=0.8)
    axes.spines[["top", "right"]].set_visible(False)
    values = np.concatenate([s.y for s in panel.series])
    # A loss falling over decades reads better on a log scale.
    if panel.title == "loss" and values.min() > 0 and values.max() / values.min() > LOG_SCALE:
        axes.set_yscale("log")
    axes.legend(fontsize=FONT_PT - 3, frameon=False, loc="best")


@dataclass(frozen=True)
class Drawing:
    """A chart to draw later, elsewhere (the Slack worker): the state as it is now.

    Calling it draws: PNG bytes, or None when there is nothing to draw; raises
    ``ChartsUnavailable`` without matplotlib. Making one costs nothing: the
    log is append-only, so the log and its length are the snapshot.
    """

    status: str
    label: str
    log: Sequence[Mapping]
    rows: int
    plot: tuple[str, ...] | None
    filename: str

    def __call__(self) -> bytes | None:
        return chart_png(self, plot=self.plot, upto=self.rows)


def chart_filename(label: str, status) -> str:
    """``<label>-<status>.png`` in safe characters, e.g. ``mnist-completed.png``."""
    status = str(getattr(status, "value", status)).lower()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", label or "").strip("-.")[:60] or "training"
    return f"{stem}-{status}.png"


def final_drawing(state, *, plot: Sequence[str] | None = None) -> Drawing | None:
    """The end-of-run chart of ``state``, to be drawn off the training thread; None when off or empty."""
    if plot is not None and not plot or not state.log:
        return None
    status = getattr(state.status, "value", state.status)
    return Drawing(str(status), state.label, state.log, len(state.log),
                   None if plot is None else tuple(plot), chart_filename(state.label, status))
