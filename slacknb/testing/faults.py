"""Faults a test can inject into the local server: Slack errors, 5xx, dropped
connections, non-JSON bodies, slow answers and forced 429s."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "FaultHandle", "FaultQueue", "make_fault"]


@dataclass
class Fault:
    """One injected misbehaviour for the next ``remaining`` calls of ``method``.

    Without ``after`` the fault replaces the call (it is not performed); with
    ``after`` the call is performed first and the fault spoils only the answer,
    the case where a client cannot know whether its call went through.
    """

    method: str
    error: str | None = None
    status: int | None = None
    drop: bool = False
    after: bool = False
    non_json: bool = False
    delay: float = 0.0
    retry_after: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    remaining: int | None = 1
    applied: int = 0

    @property
    def spoils_answer(self) -> bool:
        """Whether it changes the answer (a pure delay only slows it)."""
        return bool(self.drop or self.non_json or self.error or self.status)


class FaultHandle:
    """What :meth:`SlackServer.inject` returns: watch or cancel one fault."""

    def __init__(self, fault: Fault, lock: threading.RLock, queue: FaultQueue) -> None:
        self._fault = fault
        self._lock = lock
        self._queue = queue

    @property
    def remaining(self) -> int | None:
        """Calls it will still spoil (None: until cleared)."""
        with self._lock:
            return self._fault.remaining

    @property
    def applied(self) -> int:
        """Calls it has spoiled so far."""
        with self._lock:
            return self._fault.applied

    def cancel(self) -> None:
        """Stop this fault now."""
        with self._lock:
            self._fault.remaining = 0
            self._queue.discard(self._fault)

    def __repr__(self) -> str:
        return f"FaultHandle(method={self._fault.method!r}, remaining={self.remaining}, applied={self.applied})"


class FaultQueue:
    """Faults in the order injected; a call takes the first one for its method
    (``"*"`` matches every method). Not thread-safe: used under the server's lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault behind the ones already injected."""
        self._faults.append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault this call suffers, counted as applied, or None."""
        for fault in self._faults:
            if fault.method in (method, "*"):
                fault.applied += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def discard(self, fault: Fault) -> None:
        """Drop one fault if still queued."""
        if fault in self._faults:
            self._faults.remove(fault)

    def clear(self) -> None:
        """Drop every fault, marking them spent."""
        for fault in self._faults:
            fault.remaining = 0
        self._faults.clear()


def make_fault(method: str, *, error: str | None, status: int | None, drop: bool, after: bool,
               non_json: bool, delay: float | None, retry_after: int | None, times: int | None,
               extra: dict[str, Any]) -> Fault:
    """Validate ``inject``'s arguments into a Fault; mistakes name the fix."""
    if times is not None and times < 1:
        raise ValueError(f"times must be at least 1, or None for 'until cleared', not {times}")
    effects = [name for name, on in (("error", error), ("status", status), ("drop", drop),
                                     ("non_json", non_json)) if on]
    if not effects and not delay:
        raise ValueError("inject() needs an effect: error=, status=, drop=True, non_json=True or delay=")
    if drop and len(effects) > 1:
        raise ValueError(f"drop=True cannot be combined with {', '.join(e for e in effects if e != 'drop')}: "
                         "a dropped connection has no answer")
    if status is not None and not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code, not {status}")
    if retry_after is not None and error != "ratelimited":
        raise ValueError("retry_after= only goes with error='ratelimited'")
    if delay is not None and delay < 0:
        raise ValueError(f"delay must be >= 0 seconds, not {delay}")
    return Fault(method=method, error=error, status=status, drop=drop, after=after, non_json=non_json,
                 delay=delay or 0.0, retry_after=retry_after, extra=dict(extra), remaining=times)
