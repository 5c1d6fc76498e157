"""Mirror a training report to ONE Slack message, edited in place, with end-of-run replies.

:class:`SlackMirror` is what the rest of slacknb talks to::

    mirror = SlackMirror(mentions="@alice", alert_prefix="@here", label="mnist")
    mirror.update(rendered_text)                 # never blocks, never raises
    mirror.finish(final_text, outcome=Status.FAILED, elapsed="0:03:12", error="ValueError: bad lr")

* The mirror turns each call into typed operations (:mod:`slacknb.slack.operations`) for
  ONE worker (:mod:`slacknb.slack.outbox`) that delivers them in order; the caller never
  waits for the network, and a slow or failing Slack only delays the newest text.
* The first update posts a message (``chat.postMessage``); later ones edit it
  (``chat.update``) at most every ``min_interval`` seconds. The default of 5 s is about
  12 edits a minute, so four runs at once fit chat.update's Tier 3 budget of ~50/min.
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
* A text over Slack's size is cut (:func:`slacknb.core.slack_text.cut`); the smaller byte
  budget learned from ``msg_too_long`` is published as :attr:`MirrorState.budget`, for the
  run to render within next time.

Scopes used: ``chat:write`` (always); ``chat:write.public`` or ``channels:join`` for a
public channel the bot was not invited to; ``channels:history`` / ``groups:history`` so
an interrupted post is looked up instead of repeated; ``users:read`` (names) and
``users:read.email`` (e-mail addresses) for mentions; ``files:write`` for uploads.

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
from typing import Callable, Iterable

from slacknb.core.alerts import OUTCOMES, to_outcome
from slacknb.core.state import Status
from slacknb.slack import exit_wait
from slacknb.slack.api import Api
from slacknb.slack.clock import Clock, as_clock
from slacknb.slack.config import missing_setting_hint, resolve_config
from slacknb.slack.errors import scrub
from slacknb.slack.limits import SharedLimits, scope_of, shared_limits
from slacknb.slack.mentions import format_mentions, parse_mentions, translate_prefix
from slacknb.slack.message import SlackMessage
from slacknb.slack.operations import ALERT, FINISH, Edit, MirrorState, Reply, Upload
from slacknb.slack.outbox import Outbox

__all__ = ["MirrorState", "SlackMirror", "SlackMirrorWarning"]

_http_logger = logging.getLogger("slacknb.slack.mirror.http")
_http_logger.addHandler(logging.NullHandler())
_http_logger.propagate = False
# slack_sdk checks ``logger.level <= DEBUG`` (not the effective level) before building
# debug strings with whole bodies on every call: an explicit level skips that work.
_http_logger.setLevel(logging.WARNING)


class SlackMirrorWarning(UserWarning):
    """Something about Slack mirroring a person should know; the local report is unaffected."""


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
        Where every deadline of the mirror is read: a :class:`slacknb.slack.clock.Clock`,
        or a callable returning monotonic seconds (default ``time.monotonic``).
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
        clock: Clock | Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        local: bool = False,
    ) -> None:
        for name, value in (("min_interval", min_interval), ("flush_timeout", flush_timeout),
                            ("delivery_timeout", delivery_timeout), ("request_timeout", request_timeout),
                            ("backoff_base", backoff_base), ("backoff_max", backoff_max)):
            _check_number(name, value, allow_zero=name == "min_interval")
        for name, value in (("alert_prefix", alert_prefix), ("label", label)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        if alert_label is not None and not isinstance(alert_label, str):
            raise TypeError(f"alert_label must be a string or None, not {type(alert_label).__name__}")
        if limits is not None and not isinstance(limits, SharedLimits):
            raise TypeError("limits must be a slacknb.slack.limits.SharedLimits, or None for the machine-wide one")
        if on_state is not None and not callable(on_state):
            raise TypeError("on_state must be a callable taking a MirrorState, or None")
        self._clock = as_clock(clock)
        if client is not None and not hasattr(client, "chat_postMessage"):
            raise TypeError("client must be a slack_sdk.WebClient (or compatible), or None")
        config = resolve_config(None if local else token, channel, base_url=base_url,
                                environ={} if local else None)
        mentions = parse_mentions(mentions)
        self._alert_prefix = translate_prefix(alert_prefix)
        self._label, self._alert_label = label, alert_label
        self._owns_message = bool(owns_message)  # the one place that knows who owns the message
        self._flush_timeout = float(flush_timeout)
        self._delivery_timeout = max(float(delivery_timeout), self._flush_timeout)
        self._channel = config.channel
        self._lock = threading.Lock()
        self._warnings: list[str] = []
        self._finish_result: bool | None = None
        self._outbox: Outbox | None = None
        self._client = None
        known = format_mentions(m.markup for m in mentions)
        if local or not (config.channel and (client is not None or config.token)):
            hint = "Slack mirroring is off (local=True): the report stays here" if local else (
                missing_setting_hint(config) or "Slack mirroring is off: no channel given.")
            self._local_state = MirrorState("local", hint, mentions=known)
            if not local:
                warnings.warn(hint, SlackMirrorWarning, stacklevel=2)
            return
        self._client = client if client is not None else _make_client(config.token, config.base_url, request_timeout)
        # A timed-out call may still be carried out late; twice the request timeout (at
        # least a second) is how long slacknb gives it before looking or reading back.
        settle = max(1.0, 2.0 * float(getattr(self._client, "timeout", request_timeout) or request_timeout))
        secret = getattr(self._client, "token", None) or config.token or ""
        base = getattr(self._client, "base_url", None) or config.base_url or ""
        api = Api(self._client, clock=self._clock, limits=limits if limits is not None else shared_limits(),
                  scope=scope_of(base, secret))
        self._outbox = Outbox(
            SlackMessage(api, config.channel, clock=self._clock, settle=settle),
            mentions=mentions if self._owns_message else (), min_interval=float(min_interval),
            backoff_base=float(backoff_base), backoff_max=max(float(backoff_max), float(backoff_base)),
            clock=self._clock, on_state=on_state)

    # -- public API ------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """False in local-only mode or once a fault a person must fix stopped mirroring."""
        return self._outbox is not None and not self._outbox.disabled

    @property
    def state(self) -> MirrorState:
        """The latest :class:`MirrorState` (a snapshot; cheap to read)."""
        return self._outbox.state if self._outbox is not None else self._local_state

    @property
    def mention_markup(self) -> str:
        """Resolved mentions as Slack control sequences, e.g. ``"<@U0ALICE> <!here>"`` (may be "")."""
        return self.state.mentions

    @property
    def owns_message(self) -> bool:
        """False for a process that reports into another process's message."""
        return self._owns_message

    def attach(self, channel_id: str | None, ts: str | None, *, alert_label: str | None = None) -> None:
        """Send this run's failure alert into the thread of message ``ts`` (posted by another
        process, e.g. ChainerMN rank 0) instead of owning a message; with ``ts`` None the
        alert goes to the channel as a message of its own. Call before :meth:`finish`."""
        self._owns_message = False
        if alert_label is not None:
            self._alert_label = str(alert_label)
        if self._outbox is not None:
            self._outbox.attach(channel_id, ts)

    def wait_posted(self, timeout: float) -> tuple[str, str] | None:
        """Wait up to ``timeout`` seconds for the message to exist in Slack; its
        ``(channel ID, ts)``, or None (local-only, stopped, or not posted in time)."""
        outbox = self._outbox
        if outbox is None or not self._owns_message or not outbox.wait_posted(timeout):
            return None
        message = outbox.message
        return (message.channel_id, message.ts) if message.ts else None

    def update(self, text: str, rerender=None, *, blocks: list | None = None) -> None:
        """Make ``text`` (the full rendered message) the newest state. Never blocks, never raises.

        ``blocks`` (Block Kit) are sent with it; None keeps the message's blocks. A text
        over Slack's size is cut; render within :attr:`MirrorState.budget` to avoid that.
        ``rerender`` is accepted for compatibility and not used. Does nothing in a
        process that does not own the message.
        """
        if self._warnings or (self._outbox is not None and self._outbox.disabled):
            self._emit_warnings()
        outbox = self._outbox
        if outbox is None or self._finish_result is not None or not self._owns_message:
            return
        outbox.put(Edit(text if isinstance(text, str) else str(text), blocks=_blocks(blocks),
                        keep=(self.state.mentions,)))

    def finish(
        self,
        text: str,
        *,
        outcome: Status | str,
        elapsed: str,
        error: str | None = None,
        traceback_tail: str | None = None,
        console_tail: str | None = None,
        alert: bool = True,
        mention: bool = True,
        rerender=None,
        blocks: list | None = None,
        uploads: Iterable[Upload] = (),
    ) -> bool:
        """Deliver the final edit, the failure alert, the finish reply and ``uploads``; True if all arrived.

        ``outcome`` is the final :class:`~slacknb.core.state.Status` (its word in lower
        case is accepted too). ``blocks`` replace the message's Block Kit blocks (``[]``
        removes them). Waits at most ``flush_timeout`` seconds, then warns once about what
        was not delivered, which goes on in the background up to ``delivery_timeout``.
        Returns False at once in local-only mode or after mirroring stopped. A second call
        does nothing and returns the first call's result. In a process that does not own
        the message only the failure alert is sent.
        """
        with self._lock:
            if self._finish_result is not None:
                return self._finish_result
            self._finish_result = False
        try:
            result = self._finish(text, outcome, str(elapsed), error, traceback_tail, console_tail, alert, mention,
                                  blocks, tuple(uploads))
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
        if self._outbox is not None:
            self._outbox.close()
        self._emit_warnings()

    def __repr__(self) -> str:
        state = self.state
        return (
            f"SlackMirror(channel={self._channel!r}, status={state.status!r}, "
            f"ts={state.ts!r}, api_calls={state.api_calls})"
        )

    # -- end of run ------------------------------------------------------------------

    def _finish(self, text, outcome, elapsed, error, traceback_tail, console_tail, alert, mention, blocks,
                uploads) -> bool:
        outbox = self._outbox
        if outbox is None or outbox.disabled:
            return False
        try:
            outcome = to_outcome(outcome)
        except ValueError:
            self._queue_warning(f"finish(outcome={outcome!r}) is not one of {', '.join(OUTCOMES)}: "
                                "reported as Failed")
            outcome = Status.FAILED
        operations = []
        if self._owns_message:
            operations.append(Edit(text if isinstance(text, str) else str(text), blocks=_blocks(blocks), final=True,
                                   keep=(outcome.value, self.state.mentions)))
        if outcome is Status.FAILED and alert:
            label = self._label if self._alert_label is None else self._alert_label
            operations.append(Reply(ALERT, outcome, elapsed, label, error, traceback_tail, console_tail,
                                    self._alert_prefix))
        if mention and self._owns_message and outbox.wants_mentions:
            operations.append(Reply(FINISH, outcome, elapsed, self._label))
        if self._owns_message:
            operations.extend(uploads)
        if not operations:
            return True  # nothing to say: this process's report lives in another's message
        now = self._clock.now()
        outbox.finish(operations, deadline=now + self._flush_timeout, give_up_at=now + self._delivery_timeout)
        delivered = outbox.wait_finished(self._flush_timeout)
        if delivered or outbox.disabled or outbox.gave_up:
            outbox.close()
        else:
            # Not dropped: the worker goes on, and interpreter exit waits for it (bounded).
            exit_wait.hold(outbox)
        if not delivered and not outbox.disabled:
            missing = outbox.undelivered() or ["the end-of-run messages"]
            failure = outbox.last_failure
            why = f" (last problem: {failure.fix or failure.error})" if failure else ""
            more = "" if outbox.gave_up else (
                f"; still trying in the background for up to {self._delivery_timeout - self._flush_timeout:g} s more"
            )
            self._queue_warning(
                f"Slack did not receive {_join(missing)} within {self._flush_timeout:g} s{why}{more}; "
                "the report is complete locally"
            )
        return delivered

    def _queue_warning(self, text: str) -> None:
        with self._lock:
            self._warnings.append(scrub(text, getattr(self._client, "token", None)))

    def _emit_warnings(self) -> None:
        # Raised on the caller's thread: a warning from the worker thread could land in
        # another notebook cell, or nowhere. The worker's own notices come first.
        notices = self._outbox.take_notices() if self._outbox is not None else []
        with self._lock:
            pending, self._warnings = notices + self._warnings, []
        for text in pending:
            warnings.warn(text, SlackMirrorWarning, stacklevel=3)


def _blocks(blocks) -> tuple | None:
    return None if blocks is None else tuple(blocks)


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
