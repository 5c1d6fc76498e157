"""One daemon thread that sleeps on a Condition until woken: the shape of tqdm's ``MonoWorker``.

:class:`Worker` owns the thread, the lock and the wake-ups; a subclass says what the
thread does (:meth:`Worker._loop`). Waits go through the injected clock, so a test's fake
clock decides when a timed wait ends; :meth:`Worker._wake` and :meth:`Worker.close` end
any wait at once.
"""

from __future__ import annotations

import threading

from slacknb.slack.clock import Clock

__all__ = ["Worker"]


class Worker:
    """The thread, its Condition and its wake-ups; the thread starts at the first :meth:`_wake`."""

    def __init__(self, clock: Clock, *, name: str = "slacknb-mirror") -> None:
        self._clock = clock
        self._name = name
        self._cv = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by every wake-up, so none is lost
        self.closed = False
        self.disabled = False

    def close(self) -> None:
        """Stop the worker after its current step (if any). Idempotent."""
        with self._cv:
            self.closed = True
            self._wake()

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _wake(self) -> bool:
        """Under the lock: let the thread look again, starting it at the first use.

        False (and :attr:`disabled`) when no thread can be started: out of resources.
        """
        self._generation += 1
        self._cv.notify_all()
        if self._thread is None and not self.closed:
            thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": never the caller's problem
                self.disabled = True
                return False
            self._thread = thread
        return True

    def _sleep(self, generation: int, seconds: float | None) -> None:
        """Wait until woken after ``generation`` was read, or ``seconds`` passed (None: no bound)."""
        with self._cv:
            self._clock.wait(self._cv, lambda: self._generation != generation, seconds)

    def _pause(self, seconds: float) -> bool:
        """Interruptible pause for a step that waits inside (a Retry-After); False once stopping."""
        with self._cv:
            return not self._clock.wait(self._cv, lambda: self.closed or self.disabled, seconds)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a bug must stop the worker loudly, not silently
            self._crashed(exc)

    def _loop(self) -> None:
        """The thread's work; returns to end it."""
        raise NotImplementedError

    def _crashed(self, exc: BaseException) -> None:
        """The loop raised: say so (the thread ends)."""
