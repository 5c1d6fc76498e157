"""The curves of a chart: which log entries, read as columns, reduced to the pixels.

Pure and numpy-only (no matplotlib): the ``plot`` option is checked here at
construction, and :mod:`slacknb.core.chart` draws what this module selects.
Reading the rows is the only part whose cost grows with the log; ``Columns``
keeps what was read, and ``decimate`` bounds what is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import repeat
from typing import Mapping, Sequence

import numpy as np

__all__ = ["MAX_PANELS", "Columns", "Panel", "Series", "check_plot", "decimate", "panels"]

MAX_PANELS = 4
VALIDATION = ("validation", "val")
TRAINING = ("train",)


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
    except Exception:  # noqa: BLE001 - not a number, whatever its __float__ raised
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
    except Exception:  # noqa: BLE001 - a value that is not a number: read one by one
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
