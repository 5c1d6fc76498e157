"""Every Slack call, one way: the only slack_sdk client factory, and :meth:`Api.call`.

:func:`make_client` is the one place a ``WebClient`` is built. :meth:`Api.call` is the one
place slacknb calls Slack's Web API (the report message, its replies and uploads, the mention
look-ups, the permalink, history look-ups, the Stop button's answers): it takes the turn from
the per-machine gate (:mod:`slacknb.slack.limits`), scrubs what leaves (the last step before it
does), counts the call, makes it and returns an :class:`Answer`: the response's data, the
classified :class:`~slacknb.slack.errors.Failure`, or the :class:`~slacknb.slack.pacing.Hold`
the gate asked for (then no call was made). Nothing is raised: callers look at the answer.
"""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

from slacknb.runtime.clock import Clock
from slacknb.slack.errors import Failure, Kind, classify
from slacknb.slack.limits import SharedLimits, scope_of
from slacknb.slack.pacing import Hold

__all__ = ["Answer", "Api", "UPLOAD_BYTES", "make_client"]

UPLOAD_BYTES = "files.upload"
"""The step of an upload that POSTs the file's bytes to the URL Slack handed out (not a Web API method)."""

_http_logger = logging.getLogger("slacknb.slack.http")
_http_logger.addHandler(logging.NullHandler())
_http_logger.propagate = False
# slack_sdk checks ``logger.level <= DEBUG`` (not the effective level) before building debug
# strings with whole bodies (and, before 3.48, headers) on every call: an explicit level skips
# that work and keeps any token out of a debug log a user may switch on.
_http_logger.setLevel(logging.WARNING)

# The arguments whose text people read in Slack: scrubbed of secrets on the way out.
_SCRUBBED = ("text", "blocks", "title", "initial_comment", "alt_txt", "files")


def make_client(token: str | None, base_url: str, timeout: float):
    """A slack_sdk ``WebClient`` for slacknb: no retry handlers, quiet logger.

    The worker retries itself (so it always sends the NEWEST state and never sleeps inside a
    call where the end of a run could not wake it); every retry would log a line otherwise.
    """
    from slack_sdk import WebClient

    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[], logger=_http_logger)


@dataclass(frozen=True)
class Answer:
    """What one call achieved: ``data`` (ok), ``failure`` (refused or lost), or ``hold`` (not made)."""

    data: dict | None = None
    failure: Failure | None = None
    hold: Hold | None = None
    wait: float = 0.0
    """With ``hold``: seconds to wait before asking again."""
    sent_at: float | None = None
    """When the call left, on the clock (None when none was made)."""

    @property
    def ok(self) -> bool:
        return self.failure is None and self.hold is None


class Api:
    """A ``WebClient`` behind the shared gate, with the one scrub and a call counter.

    ``scope`` names the app in the gate (default: from the client's URL and token); without
    ``limits`` this stream keeps its own turns. ``scrub`` turns a value (text, or Block Kit's
    lists and dicts) into one fit to leave (secrets hidden); it is applied to every argument
    people read, as the last step before it leaves. ``priority``: this stream's intermediate
    edits go before other streams' (a study's board), after every stream's final report.
    """

    def __init__(self, client, *, clock: Clock, limits: SharedLimits | None = None, scope: str | None = None,
                 scrub: Callable[[object], object] | None = None, priority: bool = False) -> None:
        self.client = client
        self._clock = clock
        self._limits = limits
        self.scope = scope if scope is not None else scope_of(str(getattr(client, "base_url", "")),
                                                                str(getattr(client, "token", "") or ""))
        self._scrub = scrub
        self._priority = priority
        self._stream = secrets.token_hex(8)  # this stream in the shared gate (never changes)
        self._lock = threading.Lock()
        self.calls = 0
        """Calls made so far (the mirror's ``api_calls``)."""
        self.streams = 1
        """Streams of this app that edited in the last minute and may still need a final edit, as
        the gate counts them (this one included; a study's board once): the pace's share."""

    @property
    def timeout(self) -> float:
        """Seconds one request may take."""
        return float(getattr(self.client, "timeout", 10) or 10)

    def call(self, method: str, *, urgent: bool, **arguments) -> Answer:
        """Make ``method`` (e.g. "chat.update") with ``arguments``, or learn why not now.

        ``urgent`` marks what the end of a run (or a board) needs: it goes before other
        streams' intermediate edits. :data:`UPLOAD_BYTES` POSTs ``data`` to ``url``.
        """
        if self._scrub is not None:
            arguments = {k: (self._scrub(v) if k in _SCRUBBED else v) for k, v in arguments.items()}
        if self._limits is None:
            return self._make(method, arguments)
        channel = arguments.get("channel") or arguments.get("channel_id")
        with self._limits.turn(self.scope, method, channel, urgent=urgent, stream=self._stream,
                               priority=self._priority) as turn:
            self.streams = turn.streams
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

    def finished(self) -> None:
        """This stream's final edit is in (or will never come): it keeps no room in the gate."""
        if self._limits is not None:
            self._limits.finished(self.scope, self._stream)

    def _make(self, method: str, arguments: dict) -> Answer:
        with self._lock:
            self.calls += 1
        # After the turn was won, which can take a while: min_interval counts from here.
        sent_at = self._clock.now()
        channel = arguments.get("channel") or arguments.get("channel_id")
        try:
            if method == UPLOAD_BYTES:
                return Answer(data=self._post_bytes(arguments["url"], arguments["data"]), sent_at=sent_at)
            response = getattr(self.client, method.replace(".", "_"))(**arguments)
        except Exception as exc:  # noqa: BLE001 - every fault becomes a classified answer
            return Answer(failure=classify(exc, channel=channel), sent_at=sent_at)
        data = getattr(response, "data", response)
        return Answer(data=data if isinstance(data, dict) else {}, sent_at=sent_at)

    def _post_bytes(self, url: str, data: bytes) -> dict:
        """The middle step of an upload: the bytes to the URL files.getUploadURLExternal gave."""
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - Slack's URL
            status = response.status
        if status != 200:
            raise urllib.error.HTTPError(url, status, f"upload answered HTTP {status}", None, None)
        return {}

