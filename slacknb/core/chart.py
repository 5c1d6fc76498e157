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

import io
import math
from itertools import repeat
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

__all__ = [
    "MISSING", "MAX_PANELS", "ChartsUnavailable", "Columns", "Series", "Panel",
    "check_plot", "panels", "decimate", "chart_png", "available",
]

MISSING = "slacknb: charts are off because matplotlib is missing: pip install matplotlib"
MAX_PANELS = 4

# Sized for a phone: Slack and the notebook scale the picture to the screen's
# width, so 900 px wide with 15 pt text stays legible at ~400 CSS px.
WIDTH_PX, PANEL_PX, DPI = 900, 330, 100
FONT_PT, LINE_WIDTH = 15, 2.4
LEFT_PX, RIGHT_PX, TOP_PX, BOTTOM_PX, GAP_PX = 95, 20, 50, 65, 25
# Okabe-Ito: told apart by colour-blind readers and on a dim screen.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
VALIDATION = ("validation", "val")
TRAINING = ("train",)
LOG_SCALE = 100  # a loss panel spanning more than this factor gets a log y axis (as {trend})
MARKERS_UP_TO = 30  # few points (one row per epoch) get markers, so one point shows


class ChartsUnavailable(ImportError):
    """matplotlib cannot be imported; ``str()`` is the one line to show."""


def available() -> str | None:
    """None when charts can be drawn, else the one line saying how to get them."""
    try:
        from matplotlib.backends import backend_agg  # noqa: F401
    except ImportError:
        return MISSING
    return None


@dataclass(frozen=True)
class Series:
    """One curve: its entry name, points, and whether it is a validation one."""

    key: str
    x: np.ndarray
    y: np.ndarray

    @property
    def dashed(self) -> bool:
        return self.key.split("/", 1)[0] in VALIDATION

    @property
    def base(self) -> str:
        """The name shared by a metric's training and validation curves (one colour)."""
        head, _, rest = self.key.partition("/")
        return rest if rest and head in VALIDATION + TRAINING else self.key


@dataclass(frozen=True)
class Panel:
    """One axes: the series sharing a last name part (``loss``, ``accuracy``)."""

    title: str
    series: tuple[Series, ...]


def _group(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def check_plot(plot) -> tuple[str, ...] | None:
    """Validate the ``plot`` option: None (the default curves) or entry names.

    An empty sequence turns charts off. Entries are grouped into panels by
    their last name part, at most ``MAX_PANELS`` panels.
    """
    if plot is None:
        return None
    if isinstance(plot, str) or not all(isinstance(p, str) and p for p in plot):
        raise ValueError(
            f"plot must be a list of entry names such as ['main/loss', 'validation/main/loss'] "
            f"(or [] for no chart), not {plot!r}"
        )
    plot = tuple(dict.fromkeys(plot))
    groups = dict.fromkeys(_group(p) for p in plot)
    if len(groups) > MAX_PANELS:
        raise ValueError(
            f"plot makes {len(groups)} panels ({', '.join(groups)}), at most {MAX_PANELS} fit a "
            "phone screen: entries sharing a last name part (main/loss, validation/main/loss) "
            "share a panel, so choose fewer kinds of entries"
        )
    return plot


def _default_keys(log: Sequence[Mapping]) -> tuple[str, ...]:
    # The first and last rows hold every key a Chainer or ppe log has (the
    # validation ones at each epoch's end): no need to scan all of a long log.
    keys: dict[str, None] = {}
    for row in (*log[:2], *log[-2:]):
        keys.update(dict.fromkeys(row))
    losses = [k for k in keys if k.endswith("/loss")]
    accuracies = [k for k in keys if k.endswith("/accuracy")]
    return (*losses, *accuracies)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _x_key(log: Sequence[Mapping]) -> str | None:
    """Epoch when each row is one epoch, else iteration, else the row number."""
    first, last = log[0], log[-1]
    if "epoch" in first and "epoch" in last:
        # Rows 1, 2, ..., n epochs apart: one row per epoch (Chainer's default log).
        if _number(last["epoch"]) - _number(first["epoch"]) == len(log) - 1:
            return "epoch"
    if "iteration" in first and "iteration" in last:
        return "iteration"
    return None


def _column(rows: Sequence[Mapping], key: str | None, start: int = 0) -> np.ndarray:
    """One entry of every row as floats, NaN where a row lacks it (None: the row number)."""
    if key is None:
        return np.arange(start, start + len(rows), dtype=float)
    try:
        # Reported values are floats (or numpy scalars) in dicts: read at C speed.
        return np.fromiter(map(dict.get, rows, repeat(key), repeat(math.nan)), dtype=float, count=len(rows))
    except (TypeError, ValueError):
        return np.fromiter((_number(row.get(key)) for row in rows), dtype=float, count=len(rows))


class Columns:
    """Entries already read from one append-only log, so a redraw reads only the new rows.

    Reading a column is the only part of a chart whose cost grows with the
    log (about 0.05 us per row and entry); one ``Columns`` per run keeps a
    live chart's redraws flat.
    """

    def __init__(self):
        self._log_id: int | None = None
        self._read: dict[str | None, np.ndarray] = {}

    def get(self, log: Sequence[Mapping], rows: Sequence[Mapping], key: str | None) -> np.ndarray:
        if id(log) != self._log_id:
            self._log_id, self._read = id(log), {}
        known = self._read.get(key)
        if known is None or len(known) > len(rows):
            known = self._read[key] = _column(rows, key)
        elif len(known) < len(rows):
            known = self._read[key] = np.concatenate([known, _column(rows[len(known):], key, len(known))])
        return known


def panels(log: Sequence[Mapping], plot: Sequence[str] | None = None, *,
           columns: Columns | None = None, upto: int | None = None) -> tuple[str | None, list[Panel]]:
    """The x entry and the panels of curves ``plot`` asks for (default: losses, accuracies).

    Only the first ``upto`` rows are read (default: all): a snapshot of an
    append-only log is the log and its length.
    Non-finite values (a diverged loss) are left out; a series with no point
    at all is dropped, and so is a panel with no series.
    """
    # A snapshot of the rows: training may append while this reads.
    upto = len(log) if upto is None else min(upto, len(log))
    rows = log[:upto] if isinstance(log, list) else list(log)[:upto]
    if not rows:
        return None, []
    keys = _default_keys(rows) if plot is None else tuple(plot)
    if not keys:
        return None, []
    columns = columns if columns is not None else Columns()
    x_key = _x_key(rows)
    xs = columns.get(log, rows, x_key)
    groups: dict[str, list[Series]] = {}
    for key in keys:
        ys = columns.get(log, rows, key)
        keep = np.isfinite(ys) & np.isfinite(xs)
        if keep.any():
            groups.setdefault(_group(key), []).append(Series(key, xs[keep], ys[keep]))
    return x_key, [Panel(title, tuple(series)) for title, series in groups.items()]


def decimate(x: np.ndarray, y: np.ndarray, pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * pixels`` points that draw like ``(x, y)`` on ``pixels`` columns.

    Each run of consecutive rows is reduced to its minimum and maximum, kept in
    their order, so the drawn envelope (spikes included) is the same.
    """
    n = len(y)
    if n <= 2 * pixels:
        return x, y
    size = -(-n // pixels)
    buckets = -(-n // size)
    pad = buckets * size - n
    # Edge padding repeats the last point: it changes no minimum or maximum.
    grid = np.pad(y, (0, pad), mode="edge").reshape(buckets, size)
    base = np.arange(buckets) * size
    lo = base + grid.argmin(axis=1)
    hi = base + grid.argmax(axis=1)
    index = np.minimum(np.sort(np.stack([lo, hi], axis=1), axis=1).ravel(), n - 1)
    return x[index], y[index]


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
