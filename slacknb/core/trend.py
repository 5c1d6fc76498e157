"""``{trend}``: the main loss over the run as a one-line Unicode sparkline.

``main/loss ▇▅▃▂▂▁ 0.0123`` reads on a lock screen, in a Slack message and in
the widget's status line where a chart does not fit. The cost is bounded in
the log length (the renderer calls it on the training thread): the run is cut
into at most ``width`` equal stretches and each bar is the mean of the last
few rows of its stretch, so a render reads at most ``width * WINDOW`` rows.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from slacknb.core.slack_text import encodable, shorten, text_of

__all__ = ["BARS", "GAP", "DEFAULT_WIDTH", "MAX_WIDTH", "main_loss_key", "sparkline", "trend"]

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a stretch whose rows hold no finite value (a diverged loss)
DEFAULT_WIDTH, MAX_WIDTH = 12, 60
LATEST_CHARS = 20  # a latest "loss" that is not a number shows as text, cut to this
LOG_SCALE = 100  # max / min beyond which bars are on a log scale
WINDOW = 8  # rows averaged per bar: smooths a per-iteration loss, bounds the cost
TRAINING_PREFIXES = ("validation/", "val/", "test/")


def _finite(value) -> float | None:
    try:
        number = float(value)
    except Exception:  # noqa: BLE001 - not a number, whatever its __float__ raised
        return None
    return number if math.isfinite(number) else None


def check_width(width: int) -> int:
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"trend width must be a whole number from 1 to {MAX_WIDTH}, not {width!r}")
    return width


def sparkline(values: Sequence[float | None], *, width: int = DEFAULT_WIDTH) -> str:
    """One bar per value, at most ``width`` of them (the caller has resampled).

    Bars scale from the smallest to the largest finite value (logarithmically
    when positive values span more than ``LOG_SCALE`` times); None, NaN and
    infinities show as ``GAP``; a constant series is a flat line of the
    lowest bar.
    """
    check_width(width)
    points = [_finite(v) for v in values][-width:]
    finite = [v for v in points if v is not None]
    if not finite:
        return GAP * len(points)
    low, high = min(finite), max(finite)
    if low > 0 and high > LOG_SCALE * low:
        # A loss falling over decades (as the chart, on a log scale): linear
        # bars would show one tall bar and then a flat line.
        points = [None if v is None else math.log10(v) for v in points]
        low, high = math.log10(low), math.log10(high)
    span = high - low
    top = len(BARS) - 1
    out = []
    for value in points:
        if value is None:
            out.append(GAP)
        elif span <= 1e-9 * max(abs(low), abs(high)) or not math.isfinite(span):
            # Constant (up to the rounding of the means): a flat line.
            out.append(BARS[0])
        else:
            out.append(BARS[min(top, max(0, round((value - low) / span * top)))])
    return "".join(out)


def main_loss_key(log: Sequence[Mapping]) -> str | None:
    """``main/loss`` if the log has it, else its first training ``*/loss``, else ``loss``."""
    if not log:
        return None
    keys = dict.fromkeys((*log[-1], *log[0]))
    if "main/loss" in keys:
        return "main/loss"
    for key in keys:
        if key.endswith("/loss") and not key.startswith(TRAINING_PREFIXES):
            return key
    return "loss" if "loss" in keys else None


def _bar_value(log: Sequence[Mapping], key: str, start: int, end: int) -> float | None:
    """Mean of the finite values in the last ``WINDOW`` rows of ``[start, end)``."""
    values = []
    for row in log[max(start, end - WINDOW):end]:
        value = row.get(key)
        if value.__class__ is not float:  # the usual case skips the conversion
            value = _finite(value)
            if value is None:
                continue
        if value - value == 0.0:  # finite: inf - inf and nan - nan are nan
            values.append(value)
    if not values:
        return None
    mean = math.fsum(values) / len(values)
    return mean if math.isfinite(mean) else None


def trend(log: Sequence[Mapping], *, width: int = DEFAULT_WIDTH, key: str | None = None) -> str:
    """``"<key> <sparkline> <latest value>"``, or ``""`` when the log has no loss yet.

    ``key`` defaults to the main loss (see ``main_loss_key``).
    """
    check_width(width)
    n = len(log)
    key = key or main_loss_key(log)
    if key is None or n == 0:
        return ""
    bars = min(width, n)
    values = [_bar_value(log, key, i * n // bars, (i + 1) * n // bars) for i in range(bars)]
    latest = next((log[i][key] for i in range(n - 1, max(-1, n - 1 - WINDOW), -1) if key in log[i]), None)
    if latest is None:
        return ""
    return encodable(f"{key} {sparkline(values, width=width)} {_format(latest)}")


def _format(value) -> str:
    number = _finite(value)
    if number is None and not isinstance(value, str):
        try:
            number = float(value)  # inf and nan read as themselves
        except Exception:  # noqa: BLE001 - shown as text below
            pass
    if number is not None:
        return f"{number:.4g}"
    return shorten(text_of(value), LATEST_CHARS).replace("\n", " ")
