"""One background thread that holds the newest item and does one step at a time: tqdm's ``MonoWorker``.

The caller never waits: :meth:`Worker.put` replaces the waiting item (latest wins) and wakes the
thread; the thread runs ``step()``, which does at most one piece of work and says how long to
sleep before the next (None: until woken; :data:`STOP`: end the thread). Waits go through the
injected clock, so a test's fake clock decides when a timed wait ends. Used by the Slack outbox
(:mod:`slacknb.slack.outbox`) and the chart drawer (:mod:`slacknb.views.drawing`).
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

from slacknb.runtime.clock import Clock

__all__ = ["STOP", "Worker"]

T = TypeVar("T")
STOP = -1.0
"""What ``step`` returns to end the thread."""


class Worker(Generic[T]):
    """The thread, its Condition, the newest item and the wake-ups; the thread starts at the first wake.

    ``step()`` runs on the thread WITHOUT the lock held; it takes the newest item with
    :meth:`take`. :attr:`lock` is a re-entrant Condition the owner may hold to read or change
    its own state consistently with the worker's; every method here may be called with it held.
    """

    def __init__(self, step: Callable[[], float | None], *, clock: Clock, name: str,
                 on_crash: Callable[[BaseException], None] | None = None) -> None:
        self._step = step
        self._clock = clock
        self._name = name
        self._on_crash = on_crash
        self.lock = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by every wake-up, so none is lost
        self._item: T | None = None
        self.closed = False
        self.unavailable = False
        """True when no thread could be started (out of resources): the owner goes without."""

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def put(self, item: T, *, wake: bool = True) -> bool:
        """Make ``item`` the newest (a waiting one is dropped) and, with ``wake``, wake the thread
        (starting it at the first use); False if none can run. Without ``wake`` the thread finds the
        item when its current wait ends: the owner decides whether a new item is worth a wake-up."""
        with self.lock:
            self._item = item
            return self.wake() if wake or self._thread is None else not self.unavailable

    def take(self) -> T | None:
        """The newest item, once (None when there is none)."""
        with self.lock:
            item, self._item = self._item, None
            return item

    def peek(self) -> T | None:
        """The newest item, left in place."""
        with self.lock:
            return self._item

    def wake(self) -> bool:
        """Let the thread look again, starting it at the first use; False when no thread can run."""
        with self.lock:
            self._generation += 1
            self.lock.notify_all()
            if self._thread is None and not self.closed and not self.unavailable:
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # "can't start new thread": never the caller's problem
                    self.unavailable = True
                    return False
                self._thread = thread
            return not self.unavailable

    def close(self) -> None:
        """End the thread after its current step (if any). Idempotent."""
        with self.lock:
            self.closed = True
            self._generation += 1
            self.lock.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (after :meth:`close`)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                with self.lock:
                    if self.closed:
                        return
                    generation = self._generation
                wait = self._step()
                if wait == STOP:
                    return
                with self.lock:
                    self._clock.wait(self.lock, lambda: self._generation != generation or self.closed, wait)
        except BaseException as exc:  # noqa: BLE001 - a bug stops this worker loudly, never its owner
            if self._on_crash is not None:
                self._on_crash(exc)
