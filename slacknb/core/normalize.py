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

__all__ = ["RowCost", "STRATEGIES", "check_strategy", "select_rows"]

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
    newest = cost(count - 1)
    if newest > budget:
        return []

    def fits(step: int) -> list[int] | None:
        return _fits_every(count, cost, budget, step)

    # PrintReport rows are nearly equal in width, so the newest row's cost
    # predicts the answer; gallop away from that guess and bisect, which
    # takes two walks when the guess is right and O(log n) when it is not.
    guess = min(count, max(1, -(-count // max(1, budget // newest))))
    found = fits(guess)
    if found is not None:
        high, low, delta = guess, 0, 1  # step 0 stands for "does not fit"
        while guess - delta >= 1:
            candidate = fits(guess - delta)
            if candidate is None:
                low = guess - delta
                break
            high, found = guess - delta, candidate
            delta *= 2
    else:
        low, delta = guess, 1
        while True:
            high = min(count, guess + delta)
            found = fits(high)
            if found is not None:
                break
            low, delta = high, delta * 2  # high == count always fits: newest alone
    while high - low > 1:
        middle = (low + high) // 2
        candidate = fits(middle)
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
