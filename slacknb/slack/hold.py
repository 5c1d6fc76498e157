"""Why a call waits: the one list of reasons, and what each means for the mirror's state.

Waiting is never a failure: the shared gate (:mod:`slacknb.slack.limits`), Slack's
Retry-After, a backoff, a timed-out call settling and ``min_interval`` each hold the next
call back for a while, and the worker (:mod:`slacknb.slack.outbox`) says which.
"""

from __future__ import annotations

import enum

__all__ = ["Hold"]


class Hold(str, enum.Enum):
    """Why a call waits: the one list of reasons (waiting is never a failure)."""

    SHARED_LIMIT = "shared_limit"
    FINALS_FIRST = "finals_first"
    RESERVED = "reserved"
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
        return self in (Hold.SHARED_LIMIT, Hold.FINALS_FIRST, Hold.RESERVED)

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

    @property
    def soft(self) -> bool:
        """True for the holds that only keep intermediate edits back, never a final."""
        return self in (Hold.FINALS_FIRST, Hold.RESERVED, Hold.MIN_INTERVAL)


_WHY = {
    Hold.SHARED_LIMIT: "waiting out the Retry-After Slack gave this app",
    Hold.FINALS_FIRST: "another run's final report goes first",
    Hold.RESERVED: "the rest of this minute's Slack budget is kept for final reports",
    Hold.RETRY_AFTER: "Slack rate limit reached: waiting for its Retry-After",
    Hold.BACKOFF: "retrying with backoff",
    Hold.SETTLING: "waiting for a timed-out request to settle",
    Hold.MIN_INTERVAL: "next edit after the minimum interval",
}
