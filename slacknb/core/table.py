"""The log table in two layouts: PrintReport's, and the aligned one Slack shows.

PrintReport pads every column to ``max(10, len(entry))`` and prints numbers
with ``{:<Ng}``; the console keeps exactly that layout (scripts compare
against it). There a value wider than its column pushes the rest of the row
right, which on a phone no longer reads as a table. So the Slack message uses
an aligned layout: each column as wide as the widest value shown, numbers
with PrintReport's significant digits in one notation, aligned on the decimal
point. Rows are right-stripped: trailing blanks only cost bytes of Slack's budget.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable, Mapping, Sequence

from slacknb.core.slack_text import escape, guard_backticks, shorten, text_of, utf8_len

__all__ = ["MAX_CELL", "AlignedFormat", "AlignedRows", "Layout", "RowFormat", "cells", "column_widths",
           "format_header", "format_row", "empty_layout", "format_value", "layout_widths", "merge_layout",
           "number_text", "own_layout", "pick_entries", "value_text"]

# entries=None: columns in this order of groups, then alphabetically inside one.
_GROUP_ORDER = ("epoch", "iteration", "main/", "validation/")
# The widest a cell of the Slack table (and of the notebook's) may be, in characters. Every
# row is as wide as the widest value shown, so one 100 kB string would make each row 100 kB
# and none would fit the message. 40 is about what a phone shows of a code block without
# scrolling; it holds any number this table prints (at most 24 characters: six significant
# digits in fixed notation up to 1e16), a run name or a short path. Wider values end in an ellipsis.
MAX_CELL = 40


def column_widths(entries: Sequence[str]) -> list[int]:
    return [max(10, len(entry)) for entry in entries]


def format_header(entries: Sequence[str]) -> str:
    """The header line PrintReport prints (without the newline)."""
    widths = column_widths(entries)
    return "  ".join(f"{entry:{width}}" for entry, width in zip(entries, widths)).rstrip()


def format_value(value, width: int) -> str:
    """One cell: numbers as PrintReport's ``{:<Ng}``, anything else as text (never raises:
    a value whose ``str()`` raises shows as ``?``)."""
    try:
        if type(value) is float or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
            return f"{float(value):<{width}g}"
        if hasattr(value, "item"):  # numpy / chainer scalars
            return format_value(value.item(), width)
    except Exception:  # noqa: BLE001 - shown as text below: a value never stops the report
        pass
    return f"{text_of(value):<{width}}"


def value_text(value) -> str:
    """A value as one cell of text: one line, at most :data:`MAX_CELL` characters, never raising."""
    text = shorten(text_of(value), MAX_CELL)
    # A cell is one line: a newline (a numpy array's str) would break the table's rows.
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


class RowFormat:
    """Formats rows for fixed ``entries`` (widths worked out once)."""

    def __init__(self, entries: Sequence[str]):
        self.entries = tuple(entries)
        self._columns = list(zip(self.entries, column_widths(self.entries)))

    def __call__(self, observation: Mapping) -> str:
        cells = []
        for entry, width in self._columns:
            if entry in observation:
                cells.append(format_value(observation[entry], width))
            else:
                cells.append(" " * width)
        return "  ".join(cells).rstrip()


def format_row(entries: Sequence[str], observation: Mapping) -> str:
    """One log row as PrintReport prints it (right-stripped, no newline)."""
    return RowFormat(entries)(observation)


def _group(key: str) -> int:
    if key == "elapsed_time":
        return len(_GROUP_ORDER) + 1  # always last
    for rank, prefix in enumerate(_GROUP_ORDER):
        if key == prefix or (prefix.endswith("/") and key.startswith(prefix)):
            return rank
    return len(_GROUP_ORDER)


def pick_entries(log: Iterable[Mapping]) -> list[str]:
    """Columns for ``entries=None``: epoch, iteration, main/*, validation/*,
    then the rest, elapsed_time last."""
    keys: dict[str, None] = {}
    for observation in log:
        for key in observation:
            keys.setdefault(key)
    return sorted(keys, key=lambda k: (_group(k), k))


# -- the aligned layout (Slack) ---------------------------------------------------------

def _float_text(value: float) -> str:
    """PrintReport's six significant digits (``g``), in one notation down a column.

    ``g`` switches to exponents below 1e-4 and from 1e6, so a falling loss would
    read 0.000103481 then 9.01748e-05; here the digits stay the same but in
    fixed notation from 1e-8 to 1e16 (0.0000901748), so a column aligns on its
    point and magnitudes compare at a glance.
    """
    text = f"{value:g}"
    if "e" in text and 1e-8 <= abs(value) < 1e16:
        text = f"{value:.{max(0, 5 - math.floor(math.log10(abs(value))))}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text


def _number_text(value) -> str | None:
    """Integers whole, other reals as :func:`_float_text`; None if not a number."""
    kind = type(value)  # the common cases first: the ABC checks below are slow
    if kind is float:
        return _float_text(value)
    if kind is int:
        return str(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _float_text(float(value))
    if hasattr(value, "item"):  # numpy / chainer scalars
        try:
            return _number_text(value.item())
        except (TypeError, ValueError):  # an array of more than one value: text
            return None
    return None


def number_text(value) -> str | None:
    """A number as the Slack table shows it (integers whole, reals in six significant
    digits, fixed notation from 1e-8 to 1e16); None if ``value`` is not a number."""
    return _number_text(value)


def cells(entries: Sequence[str], observation: Mapping) -> tuple[tuple[str, ...], bool, int]:
    """The row as flat (integer part, rest) pairs, one pair per entry; whether all
    are numbers; and the index of its last column with a value (-1: none).

    A number is split at its decimal point so that a column aligns on it; text
    (and a missing value, as '') is all integer part, so it aligns right too.
    The lengths of these parts are the row's own layout (see below). No value
    makes it raise: text is :func:`value_text`, and a number whose conversion
    raises (or that is wider than a cell) is shown as text.
    """
    parts: list[str] = []
    numeric = True
    last = -1
    get = observation.get
    for column, entry in enumerate(entries):
        value = get(entry, "")
        kind = type(value)  # the common cases inline: this runs for every row shown
        try:
            if kind is float:
                text = f"{value:g}"
                if "e" in text:
                    text = _float_text(value)
            elif kind is int:
                text = str(value)  # ValueError beyond 4,300 digits
            else:
                text = _number_text(value)
        except Exception:  # noqa: BLE001 - the value's own conversion: shown as text
            text = None
        if text is None or len(text) > MAX_CELL:
            text = value_text(value) if text is None else shorten(text, MAX_CELL)
            if text:
                numeric, last = False, column
            parts.append(text)
            parts.append("")
            continue
        last = column
        left, point, rest = text.partition(".")
        parts.append(left)
        parts.append(point + rest)
    return tuple(parts), numeric, last


# A layout is flat, two ints per column: its widest integer part and widest
# rest (so a row's own layout is ``tuple(map(len, parts))``). Flat so that
# merging the shown rows is one ``map(max, ...)`` in C: the renderer does it on
# every render. The headers' lengths come in where widths are worked out.
Layout = tuple


def own_layout(parts: tuple[str, ...]) -> Layout:
    return tuple(map(len, parts))


def empty_layout(entries: Sequence[str]) -> Layout:
    return (0,) * (2 * len(entries))


def merge_layout(*layouts: Layout) -> Layout:
    """The smallest layout wide enough for all of ``layouts``."""
    return tuple(map(max, *layouts)) if len(layouts) > 1 else layouts[0]


def layout_widths(entries: Sequence[str], layout: Layout) -> list[int]:
    """Each column's width in ``layout``: its widest value or its header."""
    return [max(len(entry), left + rest) for entry, left, rest in zip(entries, layout[0::2], layout[1::2])]


class AlignedFormat:
    """Rows and header in one layout: numbers aligned on the point, every column as wide
    as its widest value or header. Compiled once into one format string per layout."""

    def __init__(self, entries: Sequence[str], layout: Layout):
        widths = layout_widths(entries, layout)
        rests = layout[1::2]
        self.header = "  ".join(entry.rjust(width) for entry, width in zip(entries, widths)).rstrip()
        self._row = "  ".join(f"{{{2 * i}:>{width - rest}}}{{{2 * i + 1}:<{rest}}}"
                              for i, (width, rest) in enumerate(zip(widths, rests)))

    def __call__(self, parts: tuple[str, ...]) -> str:
        """One row; aligned when its own layout fits inside this one (see merge_layout),
        else only as long as it would be in a layout widened for it."""
        return self._row.format(*parts).rstrip()


class AlignedRows:
    """The Slack table's rows for one (log, entries), each worked out once.

    A row's cells and own widths are parsed once. Its byte cost in a layout is
    arithmetic for rows of numbers (column offsets, then its last value) and
    its text is made only for the rows shown; both are cached per layout (the
    last few: while training the layout rarely changes). So a render costs
    what fits in the budget, not what the log holds.
    """

    _LAYOUTS_KEPT = 3

    def __init__(self):
        self._key = None
        self._parsed: dict[int, tuple] = {}
        self._layouts: dict[tuple, tuple] = {}
        self.last_layout = None  # where the next render starts

    def use(self, log: Sequence[Mapping], entries: tuple) -> None:
        key = (id(log), entries)
        if key != self._key:
            self._key, self._parsed, self._layouts, self.last_layout = key, {}, {}, None

    def own_layout(self, log: Sequence[Mapping], entries: tuple, index: int) -> Layout:
        return self._parse(log, entries, index)[2]

    def _parse(self, log, entries, index):
        got = self._parsed.get(index)
        if got is None:
            parts, numeric, last = cells(entries, log[index])
            got = self._parsed[index] = (parts, numeric, own_layout(parts), last)
        return got

    def header(self, entries: tuple, layout: Layout) -> str:
        return self._in(entries, layout)[0]

    def costs(self, log: Sequence[Mapping], entries: tuple, layout: Layout) -> Callable[[int], int]:
        """index -> bytes that row takes in ``layout``, newline included.

        Exact for a row that fits ``layout``; for a wider row an estimate (the
        renderer then widens the layout and chooses again).
        """
        _, formatted, texts, costs, ends = self._in(entries, layout)

        def cost(index: int) -> int:
            got = costs.get(index)
            if got is None:
                parts, numeric, _, last = self._parse(log, entries, index)
                if numeric:  # digits, signs, points: one byte each, nothing to escape
                    got = 1 if last < 0 else ends[last] + len(parts[2 * last + 1]) + 1
                else:
                    got = utf8_len(self._text(formatted, texts, parts, index)) + 1
                costs[index] = got
            return got

        return cost

    def texts(self, log: Sequence[Mapping], entries: tuple, layout: Layout) -> Callable[[int], str]:
        """index -> that row's escaped text in ``layout`` (which it must fit)."""
        _, formatted, texts, _, _ = self._in(entries, layout)
        return lambda index: self._text(formatted, texts, self._parse(log, entries, index)[0], index)

    @staticmethod
    def _text(formatted, texts: dict, parts: tuple, index: int) -> str:
        got = texts.get(index)
        if got is None:
            got = texts[index] = guard_backticks(escape(formatted(parts)))
        return got

    def _in(self, entries, layout):
        """(escaped header, format, texts, costs, where each column's integer part ends)."""
        got = self._layouts.get(layout)
        if got is None:
            if len(self._layouts) >= self._LAYOUTS_KEPT:
                del self._layouts[next(iter(self._layouts))]
            formatted = AlignedFormat(entries, layout)
            ends, start = [], 0
            for width, rest in zip(layout_widths(entries, layout), layout[1::2]):
                ends.append(start + width - rest)
                start += width + 2
            got = self._layouts[layout] = (guard_backticks(escape(formatted.header)), formatted, {}, {}, ends)
        return got
