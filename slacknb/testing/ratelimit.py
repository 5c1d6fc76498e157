"""Slack's per-method rate limits, and who retried before Retry-After said they could.

Pure bookkeeping over an injectable clock; the server calls it under its lock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Hashable

__all__ = [
    "PER_MINUTE", "POST_BURST", "POST_MESSAGE", "POST_PER_MINUTE", "RateLimiter", "RetryLedger", "WINDOW"
]

WINDOW = 60.0

# Calls per minute, per method and token (Slack's tiers; see the method reference).
PER_MINUTE: dict[str, int] = {
    "chat.update": 50,
    "chat.delete": 50,
    "users.list": 20,
    "users.lookupByEmail": 50,
    "conversations.join": 50,
    "conversations.info": 50,
    "conversations.history": 50,
    "conversations.replies": 50,
    "files.getUploadURLExternal": 100,
    "files.completeUploadExternal": 100,
    "auth.test": 600,
    "chat.getPermalink": 600,
    "chat.postEphemeral": 100,
    # Listed as Tier 1 by one reference and Tier 3 by another; reconnecting clients
    # call it after every drop, so the generous one keeps reconnect tests honest.
    "apps.connections.open": 50,
}

# chat.postMessage is special: about one message per second per channel, with short
# bursts allowed. A token bucket models exactly that.
POST_MESSAGE = "chat.postMessage"
POST_PER_MINUTE = 60
POST_BURST = 3


class RateLimiter:
    """Sliding one-minute windows per (method, key), and a token bucket for chat.postMessage.

    ``key`` identifies the caller: the token, plus the channel for chat.postMessage.
    Only calls that get through use up the budget; a rejected call does not.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._per_minute: dict[str, int | None] = dict(PER_MINUTE)
        self._per_minute[POST_MESSAGE] = POST_PER_MINUTE
        self._burst = POST_BURST
        self._windows: dict[tuple[str, Hashable], deque[float]] = {}
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, at)

    def set_limit(self, method: str, per_minute: int | None, *, burst: int | None = None) -> None:
        """Override one method's limit; None lifts it. For chat.postMessage ``per_minute``
        sets the refill rate and ``burst`` the bucket size."""
        if per_minute is not None and per_minute < 1:
            raise ValueError(f"per_minute must be at least 1 (or None for no limit), not {per_minute}")
        self._per_minute[method] = per_minute
        if method == POST_MESSAGE and burst is not None:
            if burst < 1:
                raise ValueError(f"burst must be at least 1, not {burst}")
            self._burst = burst

    def acquire(self, method: str, key: Hashable) -> int | None:
        """Use one call of the budget: None if allowed, else the Retry-After in whole
        seconds (at least 1) until a call would be allowed again."""
        per_minute = self._per_minute.get(method)
        if per_minute is None:
            return None
        if method == POST_MESSAGE:
            return self._take_from_bucket(key, per_minute / WINDOW)
        return self._take_from_window((method, key), per_minute)

    def reset(self) -> None:
        """Forget all past calls (limits stay as set)."""
        self._windows.clear()
        self._buckets.clear()

    def _take_from_window(self, key: tuple[str, Hashable], limit: int) -> int | None:
        now = self._clock()
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= limit:
            return _whole_seconds(window[len(window) - limit] + WINDOW - now)
        window.append(now)
        return None

    def _take_from_bucket(self, key: Hashable, rate: float) -> int | None:
        now = self._clock()
        tokens, at = self._buckets.get(key, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - at) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return _whole_seconds((1.0 - tokens) / rate)
        self._buckets[key] = (tokens - 1.0, now)
        return None


class RetryLedger:
    """Remembers, per (method, key), the moment before which a retry after a 429 is early."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._not_before: dict[tuple[str, Hashable], float] = {}
        self.early = 0

    def rejected(self, method: str, key: Hashable, retry_after: int, *, at: float | None = None) -> None:
        """A 429 told this caller to wait ``retry_after`` seconds from ``at`` (default now)."""
        start = self._clock() if at is None else at
        self._not_before[(method, key)] = start + retry_after

    def arrived(self, method: str, key: Hashable, *, at: float | None = None) -> bool:
        """Note a call; True (and counted in ``early``) if it came before its Retry-After elapsed."""
        now = self._clock() if at is None else at
        deadline = self._not_before.get((method, key))
        if deadline is None:
            return False
        if now < deadline:
            self.early += 1
            return True
        del self._not_before[(method, key)]
        return False

    def reset(self) -> None:
        """Forget all deadlines and the count."""
        self._not_before.clear()
        self.early = 0


def _whole_seconds(seconds: float) -> int:
    # Slack sends whole seconds; rounding up means a client that waits exactly
    # Retry-After is never early.
    return max(1, math.ceil(seconds - 1e-9))
