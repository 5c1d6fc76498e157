"""Mirror a training report to ONE Slack message, edited in place, with end-of-run replies.

:class:`SlackMirror` is what the rest of slacknb talks to::

    mirror = SlackMirror(mentions="@alice", alert_prefix="@here", label="mnist")
    mirror.update(rendered_text)                 # never blocks, never raises
    mirror.finish(final_text, outcome="failed", elapsed="0:03:12", error="ValueError: bad lr")

* The first update posts a message (``chat.postMessage``); later ones edit it
  (``chat.update``) at most every ``min_interval`` seconds. The default of 5 s is about
  12 edits a minute, so four runs at once fit chat.update's Tier 3 budget of ~50/min.
* Updates go through a latest-wins worker thread (:mod:`slacknb.slack.outbox`): the caller
  never waits for the network and a slow or failing Slack only delays the newest text.
* :meth:`SlackMirror.finish` delivers the final edit, then the failure alert and the
  finish reply (with mentions) in the message's thread, waits up to ``flush_timeout``
  and returns True when all arrived. Mentions only notify through these new messages:
  an edit that adds a mention notifies nobody.
* What has not arrived after ``flush_timeout`` is not dropped: the worker keeps
  delivering in the background until it arrived or ``delivery_timeout`` seconds after
  :meth:`finish` (the hard bound), and interpreter exit waits for it up to that bound
  (:mod:`slacknb.slack.exit_wait`). So every run's final state is in Slack within
  ``delivery_timeout`` of its end, unless Slack cannot be reached for that long.
* Many runs of one app share Slack's rate limits: every call goes through one gate per
  machine (:mod:`slacknb.slack.limits`), so a Retry-After told to one run holds for all, and
  final reports and end-of-run replies go before other runs' intermediate edits.
* A process that shares another's message (a ChainerMN rank other than 0,
  ``owns_message=False``) edits nothing: its :meth:`finish` sends only the failure
  alert, in the thread given to :meth:`attach`, or to the channel when none is known.
* Faults never reach the caller. Transient ones are retried with backoff, rate limits
  honour Retry-After, a post with an unknown outcome is looked up before it is repeated
  (see :mod:`slacknb.slack.message`), and a fault a person must fix (bad token, missing
  scope, unknown or archived channel) stops mirroring with one warning naming the fix.

Scopes used: ``chat:write`` (always); ``chat:write.public`` or ``channels:join`` for a
public channel the bot was not invited to; ``channels:history`` / ``groups:history`` so
an interrupted post is looked up instead of repeated; ``users:read`` (names) and
``users:read.email`` (e-mail addresses) for mentions.

Messages to the person are ``warnings.warn`` with :class:`SlackMirrorWarning`, always
raised on the caller's thread (so they show in the running notebook cell): one when
running local-only (no token or channel), one when mirroring stops, one when ``finish``
could not deliver everything, one naming mentions that could not be resolved.
slack_sdk's own per-request error log lines are silenced (logger ``slacknb.slack.mirror.http``)
because every retry would print one; the mirror's :attr:`~SlackMirror.state` says it all.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

from slacknb.slack import exit_wait
from slacknb.core.alerts import OUTCOMES, failure_alert, finish_reply
from slacknb.slack.config import missing_setting_hint, resolve_config
from slacknb.slack.mentions import MentionResolver, format_mentions, parse_mentions, translate_prefix
from slacknb.slack.limits import SharedLimits, scope_of, shared_limits
from slacknb.slack.outbox import Sender
from slacknb.slack.errors import scrub
from slacknb.slack.message import Reply, Rerender, SlackMessage

logger = logging.getLogger(__name__)
_http_logger = logging.getLogger("slacknb.slack.mirror.http")
_http_logger.addHandler(logging.NullHandler())
_http_logger.propagate = False
# slack_sdk checks ``logger.level <= DEBUG`` (not the effective level) before building
# debug strings with whole bodies on every call: an explicit level skips that work.
_http_logger.setLevel(logging.WARNING)

STATUSES = ("local", "posting", "sending", "synced", "retrying", "rate_limited", "disabled")


class SlackMirrorWarning(UserWarning):
    """Something about Slack mirroring a person should know; the local report is unaffected."""


@dataclass(frozen=True)
class MirrorState:
    """Where the Slack mirror stands. Never contains the token."""

    status: str
    """One of "local", "posting", "sending", "synced", "retrying", "rate_limited", "disabled"."""
    detail: str = ""
    """Why, in words a person can act on."""
    next_attempt_in: float | None = None
    """Seconds until the next try, when waiting (backoff, Retry-After, min_interval)."""
    permalink: str | None = None
    channel_id: str | None = None
    ts: str | None = None
    sent_text: str | None = None
    """Exactly what the Slack message shows now, as far as we know (None when unknown)."""
    api_calls: int = 0


class SlackMirror:
    """One Slack message per run, edited in place; see the module docstring.

    Parameters
    ----------
    token, channel, base_url
        Resolved by :func:`slacknb.slack.config.resolve_config` (arguments, then
        ``SLACK_BOT_TOKEN``/``SLACK_ACCESS_TOKEN``, ``SLACK_CHANNEL_ID``, ``SLACKNB_API_URL``).
        Without a token or a channel the mirror is local-only and says so once.
    local
        Never talk to Slack, whatever the settings (asked for, so nothing is said).
    mentions
        Who the finish reply notifies: see :mod:`slacknb.slack.mentions`.
    alert_prefix
        Put before the failure alert, e.g. ``"@here"`` (becomes ``<!here>``).
    min_interval
        Seconds between two edits of the message (the final edit is not held back).
    flush_timeout
        How long :meth:`finish` may wait for the end-of-run messages.
    delivery_timeout
        The hard bound: how long after :meth:`finish` the worker goes on delivering what
        did not arrive within ``flush_timeout`` (and interpreter exit waits for it).
        At least ``flush_timeout``.
    request_timeout
        Seconds one HTTP call may take.
    label
        Names the run in the end-of-run replies.
    alert_label
        Names the run in the failure alert instead (e.g. with the rank and host of a
        multi-node run); defaults to ``label``.
    owns_message
        False for a process that reports into another process's message: see :meth:`attach`.
    limits
        The :class:`~slacknb.slack.limits.SharedLimits` gate shared with the app's other runs;
        default: the one per machine.
    on_state
        Called with each new :class:`MirrorState`, from the worker thread; keep it cheap.
    client
        A ready ``slack_sdk.WebClient`` to use instead of building one (then ``token``
        and ``base_url`` are not needed).
    clock
        Monotonic seconds, for pacing.
    backoff_base, backoff_max
        Retry delays after transient faults: doubling from base to max, +-50% jitter.

    Raises TypeError/ValueError at construction for wrong argument types or values;
    after that, no method raises and none blocks longer than ``flush_timeout``.
    """

    def __init__(
        self,
        token: str | None = None,
        channel: str | None = None,
        *,
        base_url: str | None = None,
        mentions: str | Iterable[str] | None = None,
        alert_prefix: str = "",
        min_interval: float = 5.0,
        flush_timeout: float = 30.0,
        delivery_timeout: float = 120.0,
        request_timeout: float = 10.0,
        label: str = "",
        alert_label: str | None = None,
        owns_message: bool = True,
        limits: SharedLimits | None = None,
        on_state: Callable[[MirrorState], object] | None = None,
        client=None,
        clock: Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        local: bool = False,
    ) -> None:
        _check_number("min_interval", min_interval, allow_zero=True)
        _check_number("flush_timeout", flush_timeout)
        _check_number("delivery_timeout", delivery_timeout)
        _check_number("request_timeout", request_timeout)
        _check_number("backoff_base", backoff_base)
        _check_number("backoff_max", backoff_max)
        for name, value in (("alert_prefix", alert_prefix), ("label", label)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        if alert_label is not None and not isinstance(alert_label, str):
            raise TypeError(f"alert_label must be a string or None, not {type(alert_label).__name__}")
        if limits is not None and not isinstance(limits, SharedLimits):
            raise TypeError("limits must be a slacknb.slack.limits.SharedLimits, or None for the machine-wide one")
        if on_state is not None and not callable(on_state):
            raise TypeError("on_state must be a callable taking a MirrorState, or None")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds, like time.monotonic")
        if client is not None and not hasattr(client, "chat_postMessage"):
            raise TypeError("client must be a slack_sdk.WebClient (or compatible), or None")
        config = resolve_config(None if local else token, channel, base_url=base_url,
                                environ={} if local else None)
        self._mentions = parse_mentions(mentions)
        self._alert_prefix = translate_prefix(alert_prefix)
        self._label = label
        self._alert_label = alert_label
        self._owns_message = bool(owns_message)
        self._min_interval = float(min_interval)
        self._flush_timeout = float(flush_timeout)
        self._delivery_timeout = max(float(delivery_timeout), self._flush_timeout)
        self._on_state = on_state
        self._channel = config.channel
        self._lock = threading.Lock()
        self._warnings: list[str] = []
        self._api_calls = 0
        self._finish_result: bool | None = None
        self._mention_markup = format_mentions(m.markup for m in self._mentions)
        # A process that does not own the message sends no finish reply: nothing to resolve.
        self._mentions_resolved = not self._owns_message or all(m.markup is not None for m in self._mentions)
        self._configured = bool(config.channel) and (client is not None or bool(config.token))
        self._client = None
        self._sender: Sender | None = None
        if local:
            self._state = MirrorState("local", "Slack mirroring is off (local=True): the report stays here")
            return
        if not self._configured:
            hint = missing_setting_hint(config) or "Slack mirroring is off: no channel given."
            self._state = MirrorState("local", hint)
            warnings.warn(hint, SlackMirrorWarning, stacklevel=2)
            return
        self._client = client if client is not None else _make_client(config.token, config.base_url, request_timeout)
        self._state = MirrorState("posting", "nothing sent yet: the first update posts the message")
        # A timed-out call may still be carried out late; twice the request timeout (at
        # least a second) is how long slacknb gives it before looking or reading back.
        settle = max(1.0, 2.0 * float(getattr(self._client, "timeout", request_timeout) or request_timeout))
        token = getattr(self._client, "token", None) or config.token or ""
        base = getattr(self._client, "base_url", None) or config.base_url or ""
        message = SlackMessage(
            self._client,
            config.channel,
            count_call=self._count_call,
            settle=settle,
            clock=clock,
            limits=limits if limits is not None else shared_limits(),
            scope=scope_of(base, token),
        )
        self._sender = Sender(
            message,
            min_interval=self._min_interval,
            backoff_base=float(backoff_base),
            backoff_max=max(float(backoff_max), float(backoff_base)),
            clock=clock,
            publish=self._publish,
            on_disable=self._on_disable,
            mentions_due=lambda: not self._mentions_resolved,
            resolve_mentions=self._resolve_mentions,
        )

    # -- public API ------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """False in local-only mode or once a fault a person must fix stopped mirroring."""
        return self._sender is not None and not self._sender.disabled

    @property
    def state(self) -> MirrorState:
        """The latest :class:`MirrorState` (a snapshot; cheap to read)."""
        return self._state

    @property
    def mention_markup(self) -> str:
        """Resolved mentions as Slack control sequences, e.g. ``"<@U0ALICE> <!here>"`` (may be "")."""
        return self._mention_markup

    @property
    def owns_message(self) -> bool:
        """False for a process that reports into another process's message."""
        return self._owns_message

    def attach(self, channel_id: str | None, ts: str | None, *, alert_label: str | None = None) -> None:
        """Send this run's failure alert into the thread of message ``ts`` (posted by another
        process, e.g. ChainerMN rank 0) instead of owning a message; with ``ts`` None the
        alert goes to the channel as a message of its own. Call before :meth:`finish`."""
        self._owns_message = False
        self._mentions_resolved = True
        if alert_label is not None:
            self._alert_label = str(alert_label)
        if self._sender is not None:
            self._sender.message.attach(channel_id, ts)

    def wait_posted(self, timeout: float) -> tuple[str, str] | None:
        """Wait up to ``timeout`` seconds for the message to exist in Slack; its
        ``(channel ID, ts)``, or None (local-only, stopped, or not posted in time)."""
        sender = self._sender
        if sender is None or not self._owns_message:
            return None
        if not sender.wait_posted(timeout):
            return None
        message = sender.message
        return (message.channel_id, message.ts) if message.ts else None

    def update(self, text: str, rerender: Rerender | None = None) -> None:
        """Make ``text`` (the full rendered message) the newest state. Never blocks, never raises.

        ``rerender(budget)`` re-renders the message within ``budget`` UTF-8 bytes; it is
        called on the worker thread if Slack finds the text too long. Does nothing in a
        process that does not own the message.
        """
        if self._warnings:
            self._emit_warnings()
        sender = self._sender
        if sender is None or self._finish_result is not None or not self._owns_message:
            return
        sender.submit(text if isinstance(text, str) else str(text), rerender)

    def finish(
        self,
        text: str,
        *,
        outcome: str,
        elapsed: str,
        error: str | None = None,
        traceback_tail: str | None = None,
        console_tail: str | None = None,
        alert: bool = True,
        mention: bool = True,
        rerender: Rerender | None = None,
    ) -> bool:
        """Deliver the final edit, the failure alert and the finish reply; True if all arrived.

        Waits at most ``flush_timeout`` seconds, then warns once about what was not
        delivered, which goes on in the background up to ``delivery_timeout``.
        Returns False at once in local-only mode or after mirroring stopped.
        A second call does nothing and returns the first call's result. In a process
        that does not own the message only the failure alert is sent.
        """
        with self._lock:
            if self._finish_result is not None:
                return self._finish_result
            self._finish_result = False
        try:
            result = self._finish(text, outcome, elapsed, error, traceback_tail, console_tail, alert, mention, rerender)
        except Exception as exc:  # noqa: BLE001 - the end of a run must never raise into training
            self._queue_warning(
                f"Slack mirroring failed at the end of the run ({type(exc).__name__}); the report is complete locally"
            )
            result = False
        self._finish_result = result
        self._emit_warnings()
        return result

    def close(self) -> None:
        """Stop the worker (after finish, or to abandon the message). Idempotent."""
        if self._sender is not None:
            self._sender.close()
        self._emit_warnings()

    def __repr__(self) -> str:
        state = self._state
        return (
            f"SlackMirror(channel={self._channel!r}, status={state.status!r}, "
            f"ts={state.ts!r}, api_calls={state.api_calls})"
        )

    # -- end of run ------------------------------------------------------------------

    def _finish(self, text, outcome, elapsed, error, traceback_tail, console_tail, alert, mention, rerender) -> bool:
        sender = self._sender
        if sender is None or sender.disabled:
            return False
        if outcome not in OUTCOMES:
            self._queue_warning(f"finish(outcome={outcome!r}) is not one of {', '.join(OUTCOMES)}: reported as failed")
            outcome = "failed"
        elapsed = str(elapsed)
        replies = []
        if outcome == "failed" and alert:
            replies.append(
                Reply(
                    "failure alert",
                    compose=lambda: failure_alert(
                        elapsed=elapsed,
                        label=self._label if self._alert_label is None else self._alert_label,
                        error=error,
                        traceback_tail=traceback_tail,
                        console_tail=console_tail,
                        prefix=self._alert_prefix,
                    ),
                )
            )
        if mention and self._mentions and self._owns_message:
            replies.append(
                Reply(
                    "finish reply",
                    # Composed on the worker, after the names were resolved there.
                    compose=lambda: finish_reply(
                        outcome=outcome, elapsed=elapsed, label=self._label, mentions=self._mention_markup
                    ),
                )
            )
        if not self._owns_message:
            if not replies:
                return True  # nothing to say: this process's report lives in another's message
            text = None
        else:
            text = text if isinstance(text, str) else str(text)
        now = time.monotonic()
        sender.finish(text, rerender, replies, deadline=now + self._flush_timeout,
                      give_up_at=now + self._delivery_timeout)
        delivered = sender.wait_finished(self._flush_timeout)
        if delivered or sender.disabled or sender.gave_up:
            sender.close()
        else:
            # Not dropped: the worker goes on, and interpreter exit waits for it (bounded).
            exit_wait.hold(sender)
        if not delivered and not sender.disabled:
            missing = sender.undelivered() or ["the end-of-run messages"]
            failure = sender.last_failure
            why = f" (last problem: {failure.fix or failure.error})" if failure else ""
            more = "" if sender.gave_up else (
                f"; still trying in the background for up to {self._delivery_timeout - self._flush_timeout:g} s more"
            )
            self._queue_warning(
                f"Slack did not receive {_join(missing)} within {self._flush_timeout:g} s{why}{more}; "
                "the report is complete locally"
            )
        return delivered

    # -- worker-side hooks -----------------------------------------------------------

    def _count_call(self) -> None:
        self._api_calls += 1

    def _resolve_mentions(self, timeout: float) -> None:
        sender = self._sender
        try:
            resolver = MentionResolver(self._client, wait=sender.wait, count_call=self._count_call)
            resolution = resolver.resolve(self._mentions, timeout=timeout)
            self._mention_markup = resolution.markup
            if resolution.unresolved:
                why = f": {resolution.problem}" if resolution.problem else ": no such user in the workspace"
                self._queue_warning(
                    f"Slack mentions not resolved, they will not be notified: {', '.join(resolution.unresolved)}{why}"
                )
        finally:
            self._mentions_resolved = True

    def _publish(self, status: str, detail: str, next_attempt_in: float | None) -> None:
        message = self._sender.message
        token = getattr(self._client, "token", None)
        if message.note and status != "disabled":
            detail = f"{detail} (note: {message.note})"
        state = MirrorState(
            status=status,
            detail=scrub(detail, token),
            next_attempt_in=None if next_attempt_in is None else max(0.0, round(next_attempt_in, 3)),
            permalink=message.permalink,
            channel_id=message.channel_id,
            ts=message.ts,
            sent_text=message.sent_text,
            api_calls=self._api_calls,
        )
        if state == self._state:
            return
        self._state = state
        logger.debug("Slack mirror %s: %s", status, state.detail)
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # noqa: BLE001 - a display callback must not stop mirroring
                logger.debug("on_state callback failed", exc_info=True)

    def _on_disable(self, detail: str) -> None:
        detail = scrub(detail, getattr(self._client, "token", None))
        self._queue_warning(f"Slack mirroring stopped: {detail}. The report continues locally.")
        self._publish("disabled", detail, None)

    def _queue_warning(self, text: str) -> None:
        text = scrub(text, getattr(self._client, "token", None))
        with self._lock:
            self._warnings.append(text)

    def _emit_warnings(self) -> None:
        # Raised on the caller's thread: a warning from the worker thread could land in
        # another notebook cell, or nowhere.
        with self._lock:
            pending, self._warnings = self._warnings, []
        for text in pending:
            warnings.warn(text, SlackMirrorWarning, stacklevel=3)


def _make_client(token: str, base_url: str, request_timeout: float):
    from slack_sdk import WebClient

    # No retry handlers: the worker retries itself, so it always sends the NEWEST state
    # and never sleeps inside a call where finish() or close() could not wake it.
    return WebClient(token=token, base_url=base_url, timeout=request_timeout, retry_handlers=[], logger=_http_logger)


def _check_number(name: str, value: object, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
