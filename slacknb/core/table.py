"""The log table, laid out exactly as Chainer's PrintReport lays it out.

PrintReport pads every column to ``max(10, len(entry))`` and prints numbers
with ``{:<Ng}``. The same layout is used for Slack and the notebook, so a
reader who knows the console output recognises the report at once. Rows are
right-stripped: trailing blanks only cost bytes of Slack's budget.
"""

from __future__ import annotations

import numbers
from typing import Iterable, Mapping, Sequence

# entries=None: columns in this order of groups, then alphabetically inside one.
_GROUP_ORDER = ("epoch", "iteration", "main/", "validation/")


def column_widths(entries: Sequence[str]) -> list[int]:
    return [max(10, len(entry)) for entry in entries]


def format_header(entries: Sequence[str]) -> str:
    """The header line PrintReport prints (without the newline)."""
    widths = column_widths(entries)
    return "  ".join(f"{entry:{width}}" for entry, width in zip(entries, widths)).rstrip()


def format_value(value, width: int) -> str:
    """One cell: numbers as PrintReport's ``{:<Ng}``, anything else as text."""
    if type(value) is float or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return f"{float(value):<{width}g}"
    if hasattr(value, "item"):  # numpy / chainer scalars
        try:
            return format_value(value.item(), width)
        except (TypeError, ValueError):
            pass
    return f"{value!s:<{width}}"


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
