"""Mirror a training report to ONE Slack message, edited in place, with end-of-run replies.

:class:`SlackMirror` is what the rest of slacknb talks to::

    mirror = SlackMirror(mentions="@alice", alert_prefix="@here", label="mnist")
    mirror.update(rendered_text)                 # never blocks, never raises
    mirror.finish(final_text, outcome=Status.FAILED, elapsed="0:03:12", error="ValueError: bad lr")

* Each call becomes typed operations (:mod:`slacknb.slack.operations`) for ONE worker
  (:mod:`slacknb.slack.outbox`) that delivers them in order; the caller never waits for
  the network. The first update posts the message, later ones edit it at most every
  ``min_interval`` seconds (5 s: four runs at once fit chat.update's ~50/min).
* :meth:`SlackMirror.finish` delivers the final edit, then the failure alert and the
  finish reply (mentions notify only in a new message) in the thread, waits up to
  ``flush_timeout``; the rest goes on in the background until ``delivery_timeout``, and
  interpreter exit waits for it (:mod:`slacknb.slack.exit_wait`).
* A process reporting into another's message (ChainerMN ranks other than 0) edits
  nothing: its :meth:`finish` sends only the failure alert, into :meth:`attach`'s thread.
* Faults never reach the caller (:mod:`slacknb.slack.message`); what a person must know
  (a fix, local-only mode, what did not arrive, unresolved mentions) is one
  :class:`SlackMirrorWarning` each, raised on the caller's thread.

Scopes: ``chat:write``; ``chat:write.public`` or ``channels:join``; ``channels:history`` /
``groups:history`` (look an interrupted post up); ``users:read`` / ``users:read.email``
(mentions); ``files:write`` (uploads).
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Callable, Iterable

from slacknb.core.alerts import OUTCOMES, to_outcome
from slacknb.core.state import Status
from slacknb.slack import exit_wait
from slacknb.slack.clock import Clock, as_clock
from slacknb.slack.connect import check_arguments, connect
from slacknb.slack.errors import scrub
from slacknb.slack.limits import SharedLimits
from slacknb.slack.mentions import format_mentions, parse_mentions, translate_prefix
from slacknb.slack.operations import Edit, MirrorState, Upload, end_of_run
from slacknb.slack.replies import shortfall

__all__ = ["MirrorState", "SlackMirror", "SlackMirrorWarning"]

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
        check_arguments(min_interval=min_interval, flush_timeout=flush_timeout, delivery_timeout=delivery_timeout,
                        request_timeout=request_timeout, backoff_base=backoff_base, backoff_max=backoff_max,
                        alert_prefix=alert_prefix, label=label, alert_label=alert_label, limits=limits,
                        on_state=on_state, client=client)
        self._clock = as_clock(clock)
        mentions = parse_mentions(mentions)
        self._alert_prefix = translate_prefix(alert_prefix)
        self._label, self._alert_label = label, alert_label
        self._owns_message = bool(owns_message)  # the one place that knows who owns the message
        self._flush_timeout = float(flush_timeout)
        self._delivery_timeout = max(float(delivery_timeout), self._flush_timeout)
        self._lock = threading.Lock()
        self._warnings: list[str] = []
        self._finish_result: bool | None = None
        self._outbox, why_local = connect(
            token, channel, base_url=base_url, local=local, client=client, request_timeout=request_timeout,
            limits=limits, clock=self._clock, mentions=mentions if self._owns_message else (),
            min_interval=float(min_interval), backoff_base=float(backoff_base), backoff_max=float(backoff_max),
            on_state=on_state)
        self._channel = self._outbox.message.channel if self._outbox is not None else channel
        self._token = getattr(self._outbox.message.api.client, "token", None) if self._outbox else None
        if self._outbox is None:
            hint = why_local or "Slack mirroring is off (local=True): the report stays here"
            self._local_state = MirrorState("local", hint, mentions=format_mentions(m.markup for m in mentions))
            if why_local:
                warnings.warn(why_local, SlackMirrorWarning, stacklevel=2)

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
        self._alert_label = self._alert_label if alert_label is None else str(alert_label)
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

        ``blocks`` (Block Kit) go with it; None keeps the message's blocks. A text over Slack's
        size is cut: render within :attr:`MirrorState.budget`. ``rerender`` is ignored (kept
        for compatibility). Does nothing in a process that does not own the message.
        """
        if self._warnings or (self._outbox is not None and self._outbox.publisher.notices):
            self._emit_warnings()
        outbox = self._outbox
        if outbox is None or self._finish_result is not None or not self._owns_message:
            return
        outbox.put(Edit(text if isinstance(text, str) else str(text), keep=(self.state.mentions,),
                        blocks=None if blocks is None else tuple(blocks)))

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

        ``outcome``: the final :class:`~slacknb.core.state.Status` (or its word in lower case).
        ``blocks`` replace the message's Block Kit blocks (``[]`` removes them). Waits at most
        ``flush_timeout``, then warns once about what did not arrive, which goes on in the
        background up to ``delivery_timeout``. False at once when local or stopped; a second
        call returns the first one's result. Without a message of its own: only the alert.
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
        return (f"SlackMirror(channel={self._channel!r}, status={state.status!r}, "
                f"ts={state.ts!r}, api_calls={state.api_calls})")

    def _finish(self, text, outcome, elapsed, error, traceback_tail, console_tail, alert, mention, blocks,
                uploads) -> bool:
        outbox = self._outbox
        if outbox is None or outbox.disabled:
            return False
        try:
            outcome = to_outcome(outcome)
        except ValueError:
            self._queue_warning(f"finish(outcome={outcome!r}) is not one of {', '.join(OUTCOMES)}: reported as Failed")
            outcome = Status.FAILED
        operations = end_of_run(
            str(text) if self._owns_message else None, outcome=outcome, elapsed=elapsed,
            label=self._label, alert_label=self._label if self._alert_label is None else self._alert_label,
            error=error, traceback_tail=traceback_tail, console_tail=console_tail, prefix=self._alert_prefix,
            alert=alert, mention=mention and outbox.wants_mentions, blocks=blocks,
            keep=(outcome.value, self.state.mentions), uploads=uploads)
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
            more = None if outbox.gave_up else self._delivery_timeout - self._flush_timeout
            self._queue_warning(shortfall(outbox.undelivered(), waited=self._flush_timeout,
                                          failure=outbox.last_failure, more=more))
        return delivered

    def _queue_warning(self, text: str) -> None:
        with self._lock:
            self._warnings.append(scrub(text, self._token))

    def _emit_warnings(self) -> None:
        # Raised on the caller's thread: a warning from the worker thread could land in
        # another notebook cell, or nowhere. The worker's own notices come first.
        notices = self._outbox.publisher.take_notices() if self._outbox is not None else []
        with self._lock:
            pending, self._warnings = notices + self._warnings, []
        for text in pending:
            warnings.warn(text, SlackMirrorWarning, stacklevel=3)

