"""A clock that only moves when a test moves it, and wakes every waiter when it does."""

from __future__ import annotations

import threading
import weakref

from slacknb.runtime.clock import Clock


class FakeClock(Clock):
    """``now()`` starts at ``start`` and ``time()`` at ``wall``; :meth:`advance` moves both and
    wakes the waiters."""

    def __init__(self, start: float = 1000.0, *, wall: float = 1_700_000_000.0) -> None:
        super().__init__()
        self._time = start
        self._offset = wall - start
        self._lock = threading.Lock()
        self._waiting: weakref.WeakSet = weakref.WeakSet()

    def now(self) -> float:
        with self._lock:
            return self._time

    def time(self) -> float:
        with self._lock:
            return self._time + self._offset

    def __call__(self) -> float:  # also usable where a plain callable clock is expected
        return self.now()

    def wait(self, condition, predicate, seconds):
        deadline = None if seconds is None else self.now() + seconds
        with self._lock:
            self._waiting.add(condition)
        while not predicate():
            if deadline is not None and self.now() >= deadline:
                return bool(predicate())
            # Woken by advance() or by the condition's own notify; the timeout is only a
            # safety net against a lost wake-up, it never decides anything.
            condition.wait(1.0)
        return True

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds`` and let every waiter look again."""
        with self._lock:
            self._time += seconds
            waiting = list(self._waiting)
        for condition in waiting:
            with condition:
                condition.notify_all()
