"""The one source of time for the Slack path: ``now()`` and an interruptible ``wait``.

Every deadline of the Slack path (pacing, backoff, Retry-After, ``flush_timeout``,
``delivery_timeout``) is read from one :class:`Clock`, so tests can swap in a fake clock
that only moves when told to and wakes the waiters when it does.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["Clock", "as_clock"]


class Clock:
    """Monotonic seconds (``time.monotonic``) and waits on a ``threading.Condition``."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now

    def now(self) -> float:
        """Seconds on this clock (only differences mean anything)."""
        return self._now()

    def wait(self, condition: threading.Condition, predicate: Callable[[], bool], seconds: float | None) -> bool:
        """With ``condition`` held: wait until ``predicate()`` or ``seconds`` passed (None: no bound).

        Returns ``predicate()``. A ``notify`` of ``condition`` makes the waiter look again.
        """
        if seconds is not None and seconds <= 0:
            return bool(predicate())
        return bool(condition.wait_for(predicate, seconds))


def as_clock(clock: Clock | Callable[[], float] | None) -> Clock:
    """A :class:`Clock` from a Clock, a callable returning seconds (like ``time.monotonic``), or None."""
    if clock is None:
        return Clock()
    if isinstance(clock, Clock):
        return clock
    if callable(clock):
        return Clock(clock)
    raise TypeError("clock must be a slacknb.slack.clock.Clock or a callable returning seconds, like time.monotonic")
