"""Why a call waits (:class:`Hold`) and when the next may go (:class:`Pacing`): one object per stream.

Waiting is never a failure: the shared gate (:mod:`slacknb.slack.limits`), Slack's
Retry-After, a backoff, a timed-out call settling and ``min_interval`` each hold the next call
back for a while, and the state says which. Intermediate edits are spaced by ``min_interval``;
after a transient fault the next try backs off (doubling from ``backoff_base`` to
``backoff_max``, +-50% jitter; at the end of a run at most :data:`END_BACKOFF` seconds, since
the process may be waiting to exit); a hold of the gate is waited out with a little random
extra, so that many streams do not call in the same instant. Every time is on the injected clock.
"""

from __future__ import annotations

import enum
import random

from slacknb.slack.errors import Failure, Kind

__all__ = ["BOARD_INTERVAL", "BUDGETS", "END_BACKOFF", "Hold", "MIN_INTERMEDIATE", "Pacing", "WINDOW", "auto_interval"]

class Hold(str, enum.Enum):
    """Why a call waits: the one list of reasons (waiting is never a failure)."""

    SHARED_LIMIT = "shared_limit"
    FINALS_FIRST = "finals_first"
    BOARD_FIRST = "board_first"
    RESERVED = "reserved"
    FULL = "full"
    RETRY_AFTER = "retry_after"
    BACKOFF = "backoff"
    SETTLING = "settling"
    MIN_INTERVAL = "min_interval"

    __str__ = str.__str__

    @property
    def why(self) -> str:
        """The reason in words, for the mirror's state detail."""
        return _WHY[self]

    @property
    def gate(self) -> bool:
        """True for the holds the shared gate asks for (another stream is involved)."""
        return self in (Hold.SHARED_LIMIT, Hold.FINALS_FIRST, Hold.BOARD_FIRST, Hold.RESERVED, Hold.FULL)

    @property
    def status(self) -> str:
        """The mirror's status word while waiting for this."""
        if self is Hold.MIN_INTERVAL:
            return "sending"
        return "retrying" if self in (Hold.BACKOFF, Hold.SETTLING) else "rate_limited"

    @property
    def binding(self) -> bool:
        """True for a Retry-After Slack gave (this stream or the app): nothing may cut it short."""
        return self in (Hold.SHARED_LIMIT, Hold.RETRY_AFTER)


_WHY = {
    Hold.SHARED_LIMIT: "waiting out the Retry-After Slack gave this app",
    Hold.FINALS_FIRST: "another run's final report goes first",
    Hold.BOARD_FIRST: "a study's board goes first",
    Hold.RESERVED: "the rest of this minute's Slack budget is kept for final reports",
    Hold.FULL: "this minute's Slack budget is used up on this machine",
    Hold.RETRY_AFTER: "Slack rate limit reached: waiting for its Retry-After",
    Hold.BACKOFF: "retrying with backoff",
    Hold.SETTLING: "waiting for a timed-out request to settle",
    Hold.MIN_INTERVAL: "next edit after the minimum interval",
}


WINDOW = 60.0
# Calls a minute per app (Slack's tiers; the lower end of "50+" for Tier 3).
BUDGETS = {"chat.update": 50}
MIN_INTERMEDIATE = 5
# Seconds between two edits of a study's board when min_interval is not given: one stream's
# share that keeps the board live (an edit every 2 s at worst) and leaves chat.update room
# for the trials' reports. Fixed, not paced by the number of runs: there is one board.
BOARD_INTERVAL = 1.5
AUTO_FASTEST = 1.0  # a run alone: about one edit a second
END_BACKOFF = 3.0  # the longest backoff once the run ended: a script's exit may be waiting for it


def auto_interval(streams: int) -> float:
    """Seconds between one stream's intermediate edits when ``streams`` streams of the app are active.

    Together they stay inside chat.update's budget less one call a minute per stream kept
    for its final edit; alone that is about one edit a second (:data:`AUTO_FASTEST`), and
    never more than a minute apart (the gate's reservation holds the rest back anyway).
    """
    room = max(MIN_INTERMEDIATE, BUDGETS["chat.update"] - streams)
    return min(WINDOW, max(AUTO_FASTEST, WINDOW * max(1, streams) / room))


MAX_UNEXPECTED = 5  # unknown errors retried this many times in a row, then mirroring stops
RATE_JITTER, RATE_JITTER_MAX = 0.25, 2.0  # spread of streams released by another's Retry-After


class Pacing:
    """The stream's pacing state. Not thread-safe: the outbox holds its lock around every use."""

    def __init__(self, *, min_interval: float | None, backoff_base: float, backoff_max: float) -> None:
        self.min_interval = min_interval
        """Seconds between intermediate edits; None: :func:`auto_interval`."""
        self._base, self._most = backoff_base, backoff_max
        self.resume_at = 0.0
        self.hold: Hold | None = None
        """Why nothing may be sent before :attr:`resume_at`."""
        self.last_edit_at: float | None = None
        self.last_failure: Failure | None = None
        self._failures = self._unexpected = 0
        self._random = random.Random()
        self.ending = False
        """True once the run ended: backoffs are capped at :data:`END_BACKOFF`."""

    def interval(self, streams: int = 1) -> float:
        """Seconds between two intermediate edits with ``streams`` streams of the app active."""
        return auto_interval(streams) if self.min_interval is None else self.min_interval

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
        most = min(self._most, END_BACKOFF) if self.ending else self._most
        delay = min(most, self._base * 2 ** (self._failures - 1))
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
