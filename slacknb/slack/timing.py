"""When the worker's next call may go, and why it waits: one :class:`Timing` per stream.

Intermediate edits are spaced by ``min_interval``; after a transient fault the next try
backs off (doubling from ``backoff_base`` to ``backoff_max``, +-50% jitter); Slack's
Retry-After is honoured; a hold of the shared gate (:mod:`slacknb.slack.limits`) is waited
out with a little random extra, so that many streams do not call in the same instant.
Every time here is on the injected clock; waiting is never recorded as a failure.
"""

from __future__ import annotations

import random

from slacknb.slack.errors import Failure, Kind
from slacknb.slack.limits import Hold

__all__ = ["Timing"]

MAX_UNEXPECTED = 5  # unknown errors retried this many times in a row, then mirroring stops
RATE_JITTER, RATE_JITTER_MAX = 0.25, 2.0  # spread of streams released by another's Retry-After


class Timing:
    """The stream's pacing state. Not thread-safe: the outbox holds its lock around every use."""

    def __init__(self, *, min_interval: float, backoff_base: float, backoff_max: float) -> None:
        self.min_interval = min_interval
        self._base, self._most = backoff_base, backoff_max
        self.resume_at = 0.0
        self.hold: Hold | None = None
        """Why nothing may be sent before :attr:`resume_at`."""
        self.last_edit_at: float | None = None
        self.last_failure: Failure | None = None
        self._failures = self._unexpected = 0
        self._random = random.Random()

    def ready_at(self, *, intermediate_edit: bool) -> tuple[float, Hold | None]:
        """When the next call may go, and what it waits for until then."""
        if intermediate_edit and self.last_edit_at is not None:
            spaced = self.last_edit_at + self.min_interval
            if spaced > self.resume_at:
                return spaced, Hold.MIN_INTERVAL
        return self.resume_at, self.hold

    def edit_waits(self, now: float) -> bool:
        """True while an intermediate edit only waits out ``min_interval`` (a free moment)."""
        return (self.resume_at <= now and self.last_edit_at is not None
                and now < self.last_edit_at + self.min_interval)

    def succeeded(self, *, edited_at: float | None) -> None:
        """A step went through; ``edited_at`` when it posted or edited the message."""
        self._failures = self._unexpected = 0
        self.resume_at, self.hold, self.last_failure = 0.0, None, None
        if edited_at is not None:
            self.last_edit_at = edited_at

    def held(self, hold: Hold, seconds: float, now: float) -> None:
        """Wait ``seconds`` for ``hold`` (the gate's, or a timed-out call settling)."""
        # The gate's holds: only ever later than asked, so the stream told first goes first.
        jitter = self._random.uniform(0.0, min(RATE_JITTER_MAX, RATE_JITTER * seconds) + 0.05) if hold.gate else 0.0
        self.hold, self.resume_at = hold, max(self.resume_at, now + seconds + jitter)

    def failed(self, failure: Failure | None, now: float) -> str | None:
        """Set when to try again after ``failure``; a detail text if mirroring must stop instead."""
        failure = self.last_failure = failure or Failure(Kind.UNEXPECTED, "unknown", "unknown failure")
        if failure.kind is Kind.RATE_LIMITED:
            self.hold = Hold.RETRY_AFTER
            self.resume_at = now + (failure.retry_after if failure.retry_after is not None else 1.0)
            return None
        if failure.kind is Kind.UNEXPECTED:
            self._unexpected += 1
            if self._unexpected > MAX_UNEXPECTED:
                return (f"the Slack mirror stopped after repeated unexpected errors ({failure.error}); "
                        "the report stays local")
        self._failures += 1
        delay = min(self._most, self._base * 2 ** (self._failures - 1))
        self.hold, self.resume_at = Hold.BACKOFF, now + delay * self._random.uniform(0.5, 1.5)
        return None

    def hurry(self, *, restart_backoff: bool = False) -> None:
        """Cut a wait short unless Slack itself asked for it (a Retry-After is honoured)."""
        if self.hold is None or not self.hold.binding:
            self.resume_at = 0.0
            if restart_backoff:
                self._failures = 0

    def detail(self, waiting_for: Hold | None) -> str:
        """The state detail while waiting for ``waiting_for``."""
        if waiting_for is None:
            return "Slack shows the latest report"
        failure = self.last_failure
        if waiting_for is Hold.BACKOFF and failure is not None:
            return f"{failure.fix or failure.error}: {waiting_for.why}, then sending the newest report"
        if waiting_for in (Hold.MIN_INTERVAL, Hold.SETTLING):
            return waiting_for.why
        return f"{waiting_for.why}, then sending the newest report"
