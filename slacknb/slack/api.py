"""One Slack API call through the app's shared gate, answered as data, never raised.

:meth:`Api.call` is the only place the Slack path calls slack_sdk for the report: it
takes the turn from the per-machine gate (:mod:`slacknb.slack.limits`), counts the call,
makes it, and returns an :class:`Answer`: the response's data, or the classified
:class:`~slacknb.slack.errors.Failure`, or the :class:`~slacknb.slack.limits.Hold` the gate
asked for (then no call was made). Callers look at the answer; nothing is thrown at them.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from slacknb.slack.clock import Clock
from slacknb.slack.errors import Failure, Kind, classify
from slacknb.slack.limits import Hold, SharedLimits

__all__ = ["Answer", "Api"]


@dataclass(frozen=True)
class Answer:
    """What one call achieved: ``data`` (ok), ``failure`` (refused or lost), or ``hold`` (not made)."""

    data: dict | None = None
    failure: Failure | None = None
    hold: Hold | None = None
    wait: float = 0.0
    """With ``hold``: seconds to wait before asking again."""

    @property
    def ok(self) -> bool:
        return self.failure is None and self.hold is None


class Api:
    """A slack_sdk ``WebClient`` behind the shared gate, with a call counter.

    ``scope`` (see :func:`slacknb.slack.limits.scope_of`) names the app in the gate; without
    ``limits`` this stream keeps its own turns. :attr:`sent_at` is when the latest call
    left, on ``clock``.
    """

    def __init__(self, client, *, clock: Clock, limits: SharedLimits | None = None, scope: str = "") -> None:
        self.client = client
        self._clock = clock
        self._limits = limits
        self._scope = scope
        self._stream = secrets.token_hex(8)  # this stream in the shared gate (never changes)
        self._lock = threading.Lock()
        self.calls = 0
        """API calls made so far (the mirror's ``api_calls``)."""
        self.sent_at: float | None = None

    def count(self) -> None:
        """Count one call made outside :meth:`call` (the mention look-ups)."""
        with self._lock:
            self.calls += 1

    def call(self, method: str, *, urgent: bool, **arguments) -> Answer:
        """Make ``method`` (e.g. "chat.update") with ``arguments``, or learn why not now.

        ``urgent`` marks the end of a run: it goes before other streams' intermediate edits.
        """
        if self._limits is None:
            return self._make(method, arguments)
        channel = arguments.get("channel")
        with self._limits.turn(self._scope, method, channel, urgent=urgent, stream=self._stream) as turn:
            if turn.wait > 0:
                return Answer(hold=Hold(turn.reason), wait=turn.wait)
            answer = self._make(method, arguments)
            failure = answer.failure
            if failure is not None and failure.kind is Kind.RATE_LIMITED:
                turn.limited(failure.retry_after if failure.retry_after is not None else 1.0)
                return answer
            turn.made()
            if failure is None:
                turn.succeeded()
            return answer

    def _make(self, method: str, arguments: dict) -> Answer:
        self.count()
        # After the turn was won, which can take a while: min_interval counts from here.
        self.sent_at = self._clock.now()
        try:
            response = getattr(self.client, method.replace(".", "_"))(**arguments)
        except Exception as exc:  # noqa: BLE001 - every fault becomes a classified answer
            return Answer(failure=classify(exc, channel=arguments.get("channel") or arguments.get("channel_id")))
        data = getattr(response, "data", response)
        return Answer(data=data if isinstance(data, dict) else {})
