"""The one source of time for slacknb: monotonic seconds, wall-clock time and interruptible waits.

Every deadline (pacing, backoff, Retry-After, ``flush_timeout``, ``delivery_timeout``, the
chart's pace, the stall watch) and every "updated ..." time is read from one :class:`Clock`,
so a test swaps in a fake clock that only moves when told to and wakes the waiters when it
does (``tests/support/clock.py``).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["Clock", "as_clock"]


class Clock:
    """``now()``: monotonic seconds (pacing); ``time()``: Unix seconds (what a person reads,
    and what other processes compare); ``wait``: on a ``threading.Condition``."""

    def __init__(self, now: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._now = now
        self._wall = wall

    def now(self) -> float:
        """Seconds on this clock (only differences mean anything)."""
        return self._now()

    def time(self) -> float:
        """Wall-clock Unix seconds."""
        return self._wall()

    def wait(self, condition: threading.Condition, predicate: Callable[[], bool], seconds: float | None) -> bool:
        """With ``condition`` held: wait until ``predicate()`` or ``seconds`` passed (None: no bound).

        Returns ``predicate()``. A ``notify`` of ``condition`` makes the waiter look again.
        """
        if seconds is not None and seconds <= 0:
            return bool(predicate())
        return bool(condition.wait_for(predicate, seconds))

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock (a fake clock returns when it is moved past them)."""
        condition = threading.Condition()
        with condition:
            self.wait(condition, lambda: False, seconds)


SYSTEM = Clock()


def as_clock(clock: Clock | Callable[[], float] | None) -> Clock:
    """A :class:`Clock` from a Clock, a callable returning monotonic seconds, or None (the system's)."""
    if clock is None:
        return SYSTEM
    if isinstance(clock, Clock):
        return clock
    if callable(clock):
        return Clock(clock)
    raise TypeError("clock must be a slacknb.runtime.clock.Clock or a callable returning seconds, like time.monotonic")
