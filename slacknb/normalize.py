"""Choosing which log rows fit Slack's size limit.

Pure functions over row indices and a per-row byte cost, so the work per call
is bounded by what fits in the budget, never by the length of the log: a cost
is asked only for rows that are candidates, and each walk stops as soon as the
budget is spent.

Strategies (chainer-slack-report's names, case-insensitive):

- ``thin_out`` keeps rows at a uniform interval, the smallest that fits,
  counted back from the newest row, which is therefore always kept;
- ``fifo`` drops the oldest rows first (keeps the newest);
- ``lifo`` keeps the oldest rows; newer rows stop being added once full.
"""

from __future__ import annotations

from typing import Callable

STRATEGIES = ("thin_out", "fifo", "lifo")

RowCost = Callable[[int], int]


def check_strategy(name: str) -> str:
    """The canonical strategy name for ``name``, or ValueError naming the valid ones."""
    if isinstance(name, str) and name.lower() in STRATEGIES:
        return name.lower()
    raise ValueError(
        f"len_normalizer {name!r} is unknown; use one of: " + ", ".join(STRATEGIES)
    )


def _fits_every(count: int, cost: RowCost, budget: int, step: int) -> list[int] | None:
    """Rows newest, newest-step, ... if together they fit ``budget``; else None."""
    kept = []
    used = 0
    for index in range(count - 1, -1, -step):
        used += cost(index)
        if used > budget:
            return None
        kept.append(index)
    kept.reverse()
    return kept


def _thin_out(count: int, cost: RowCost, budget: int) -> list[int]:
    every = _fits_every(count, cost, budget, 1)
    if every is not None:
        return every
    # Grow the step exponentially until it fits, then bisect down to the
    # smallest fitting step: O(log n) walks, each stopped by the budget.
    low, high = 1, 2
    found = None
    while high < count:
        found = _fits_every(count, cost, budget, high)
        if found is not None:
            break
        low, high = high, high * 2
    if found is None:
        high = count  # only the newest row is left to try
        found = _fits_every(count, cost, budget, high)
        if found is None:
            return []
    while high - low > 1:
        middle = (low + high) // 2
        candidate = _fits_every(count, cost, budget, middle)
        if candidate is None:
            low = middle
        else:
            high, found = middle, candidate
    return found


def _fifo(count: int, cost: RowCost, budget: int) -> list[int]:
    kept = []
    used = 0
    for index in range(count - 1, -1, -1):
        used += cost(index)
        if used > budget:
            break
        kept.append(index)
    kept.reverse()
    return kept


def _lifo(count: int, cost: RowCost, budget: int) -> list[int]:
    kept = []
    used = 0
    for index in range(count):
        used += cost(index)
        if used > budget:
            break
        kept.append(index)
    return kept


_SELECTORS = {"thin_out": _thin_out, "fifo": _fifo, "lifo": _lifo}


def select_rows(count: int, cost: RowCost, budget: int, strategy: str) -> list[int]:
    """Indices (ascending) of the rows to show among ``count`` rows.

    ``cost(i)`` is the number of bytes row ``i`` takes, separator included; the
    chosen rows' costs add up to at most ``budget``.
    """
    if count <= 0 or budget <= 0:
        return []
    return _SELECTORS[check_strategy(strategy)](count, cost, budget)
