"""Mirror a training report to ONE Slack message, edited in place, with replies in its thread.

:class:`SlackMirror` is what the rest of slacknb talks to::

    mirror = SlackMirror(mentions="@alice", alert_prefix="@here", label="mnist")
    mirror.update(rendered_text)                 # never blocks, never raises
    mirror.reply("stall", "Stalled: ...")        # a reply in the thread, edited by a later call
    mirror.finish(final_text, outcome=Status.FAILED, elapsed="0:03:12", error="ValueError: bad lr")

* Each call becomes typed operations (:mod:`slacknb.slack.operations`) for ONE worker
  (:mod:`slacknb.slack.outbox`) that delivers them in order; the caller never waits for the
  network. The first update posts the message, later ones edit it at most every
  ``min_interval`` seconds. The people named in ``mentions`` are looked up in the background
  as soon as the message exists (:mod:`slacknb.slack.people`).
* :meth:`SlackMirror.finish` queues the final edit (naming the people it notifies), the
  failure alert and the finish reply (mentions notify only in a new message), then the chart,
  and waits up to ``flush_timeout``; the rest goes on in the background until
  ``delivery_timeout``, and interpreter exit waits for it (:mod:`slacknb.slack.exit_wait`).
* A process reporting into another's message (ChainerMN ranks other than 0) edits nothing:
  its :meth:`finish` sends only the failure alert, into :meth:`attach`'s thread.
* Faults never reach the caller; what a person must know (a fix, local-only mode, what did not
  arrive, unresolved mentions) is one :class:`SlackMirrorWarning` each, raised on the caller's
  thread at the user's line, and in :attr:`MirrorState.problems` for the views.

Scopes: ``chat:write``; ``chat:write.public`` or ``channels:join``; ``channels:history`` /
``groups:history`` (look an interrupted post up); ``users:read`` / ``users:read.email``
(mentions); ``files:write`` (the chart).
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable

from slacknb.core.alerts import OUTCOMES, to_outcome
from slacknb.core.blocks import report_blocks
from slacknb.core.chart import Drawing
from slacknb.core.mentions import mention_slot
from slacknb.core.state import Status
from slacknb.core.stop import StopSignal
from slacknb.runtime.clock import SYSTEM, Clock, as_clock
from slacknb.runtime.notice import warn
from slacknb.slack import exit_wait
from slacknb.slack.api import Api, make_client
from slacknb.slack.config import SlackSettings, missing_setting_hint
from slacknb.slack.limits import SharedLimits, shared_limits
from slacknb.slack.message import SlackMessage
from slacknb.slack.operations import Edit, Note, Upload, end_of_run
from slacknb.slack.outbox import Outbox
from slacknb.slack.people import People
from slacknb.slack.state import MirrorState, Publisher, SlackMirrorWarning
from slacknb.slack.stop_listener import StopListener

__all__ = ["MirrorState", "SlackMirror", "SlackMirrorWarning"]


class SlackMirror:
    """One Slack message per run, edited in place; see the module docstring.

    ``settings`` is the run's :class:`~slacknb.slack.config.SlackSettings`, resolved once; without
    it the keywords of :meth:`SlackSettings.resolve` (``token``, ``channel``, ``base_url``,
    ``mentions``, ``alert_prefix``, ``min_interval``, ``flush_timeout``, ``delivery_timeout``,
    ``request_timeout``, ``backoff_base``, ``backoff_max``, ``local``, ...) are resolved here.
    Without a token or a channel the mirror is local-only and says so once.

    ``label`` names the run in the end-of-run replies (``alert_label`` in the failure alert);
    ``owns_message`` False: this process reports into another's message (:meth:`attach`);
    ``parent=(channel_id, ts)``: the report is a reply in that message's thread, edited in place;
    ``adopt=(channel_id, ts)``: the report is that existing message; ``priority`` > 0: this
    stream's intermediate edits go before others' in the per-machine gate (a study's board);
    ``stop``: the run's StopSignal, for a Stop button under the message (``settings.stop_allowed``);
    ``limits``: the per-machine gate (default: the machine's); ``on_state`` gets each new
    :class:`MirrorState` on the worker thread (keep it cheap); ``client``: a ready slack_sdk
    ``WebClient``; ``clock``: a :class:`slacknb.runtime.clock.Clock` or a monotonic callable.

    Raises TypeError/ValueError at construction for wrong argument types or values; after
    that, no method raises and none blocks longer than ``flush_timeout``.
    """

    def __init__(self, token: str | None = None, channel: str | None = None, *,
                 settings: SlackSettings | None = None, label: str = "", alert_label: str | None = None,
                 owns_message: bool = True, limits: SharedLimits | None = None,
                 on_state: Callable[[MirrorState], object] | None = None, client=None,
                 clock: Clock = SYSTEM, parent: tuple[str, str] | None = None,
                 adopt: tuple[str, str] | None = None, priority: int = 0, stop: StopSignal | None = None,
                 **keywords) -> None:
        if settings is None:
            settings = SlackSettings.resolve(token, channel, **keywords)
        elif token is not None or channel is not None or keywords:
            raise TypeError("give either settings= or the keywords to resolve, not both")
        if not isinstance(label, str) or not (alert_label is None or isinstance(alert_label, str)):
            raise TypeError("label must be a string, and alert_label a string or None")
        if limits is not None and not isinstance(limits, SharedLimits):
            raise TypeError("limits must be a slacknb.slack.limits.SharedLimits, or None for the machine-wide one")
        if on_state is not None and not callable(on_state):
            raise TypeError("on_state must be a callable taking a MirrorState, or None")
        if client is not None and not hasattr(client, "chat_postMessage"):
            raise TypeError("client must be a slack_sdk.WebClient (or compatible), or None")
        self.settings = settings
        self._clock = as_clock(clock)
        self._label, self._alert_label = label, alert_label
        self._owns_message = bool(owns_message)  # the one place that knows who owns the message
        self._lock = threading.Lock()
        self._warnings: list[str] = []
        self._finish_result: bool | None = None
        self._button_shown = False
        self._scrub = settings.scrub
        self.mention_slot = mention_slot(settings.mentions) if self._owns_message else ""
        """What the final text names its mentions with (filled in once they are looked up)."""
        self._outbox = self._connect(client, limits, on_state, parent, adopt, priority)
        self._listener = None
        if self._outbox is not None and stop is not None and settings.stop_allowed is not None:
            self._listener = StopListener.for_mirror(settings, self._outbox, stop)

    def _connect(self, client, limits, on_state, parent, adopt, priority) -> Outbox | None:
        settings = self.settings
        people = People(settings.mentions if self._owns_message else (), settings.stop_allowed)
        if settings.local:
            self._local_state = MirrorState("local", "Slack mirroring is off (local=True): the report stays here",
                                            mentions=people.markup)
            return None
        if not (settings.channel and (client is not None or settings.token)):
            why = missing_setting_hint(settings.config) or "Slack mirroring is off: no channel given."
            self._local_state = MirrorState("local", why, mentions=people.markup)
            warn(why, SlackMirrorWarning)
            return None
        if client is None:
            client = make_client(settings.token, settings.base_url, settings.request_timeout)
        api = Api(client, clock=self._clock, limits=limits if limits is not None else shared_limits(),
                  scrub=self._scrub.nested, priority=priority > 0)
        # A timed-out call may still be carried out late; twice the request timeout (at
        # least a second) is how long slacknb gives it before looking or reading back.
        settle = max(1.0, 2.0 * api.timeout)
        message = SlackMessage(api, settings.channel, clock=self._clock, settle=settle, parent=parent, adopt=adopt)
        exit_wait.arm()  # before any run's own exit function: see exit_wait
        publisher = Publisher(scrub=self._scrub, on_state=on_state, mentions=people.markup)
        return Outbox(message, people=people, min_interval=settings.min_interval,
                      backoff_base=settings.backoff_base, backoff_max=settings.backoff_max, clock=self._clock,
                      publisher=publisher)

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

    @property
    def stop_listener(self) -> StopListener | None:
        """The Stop button's listener, when this run has one."""
        return self._listener

    def attach(self, channel_id: str | None, ts: str | None, *, alert_label: str | None = None) -> None:
        """Send this run's failure alert into the thread of message ``ts`` (posted by another
        process, e.g. ChainerMN rank 0) instead of owning a message; with ``ts`` None the
        alert goes to the channel as a message of its own. Call before :meth:`finish`."""
        self._owns_message = False
        self.mention_slot = ""
        self._alert_label = self._alert_label if alert_label is None else str(alert_label)
        if self._outbox is not None:
            self._outbox.attach(channel_id, ts)

    def subscribe(self, callback: Callable[[MirrorState], object]) -> None:
        """Call ``callback`` with each new :class:`MirrorState` from now on (on the worker thread)."""
        if self._outbox is not None:
            self._outbox.publisher.subscribe(callback)

    def listen(self) -> None:
        """The run started: open the Stop button's listener (in the background), if any."""
        if self._listener is not None:
            self._listener.start()

    def wait_delivered(self, timeout: float, *, essential: bool = False) -> bool:
        """Wait up to ``timeout`` seconds for the end of the run to be in Slack (``essential``:
        the final edit and the replies people wait for, not the chart); True when it is."""
        if self._outbox is None or self._finish_result is None:
            return False
        return self._outbox.wait_finished(timeout, essential=essential)

    def wait_posted(self, timeout: float) -> tuple[str, str] | None:
        """Wait up to ``timeout`` seconds for the message to exist in Slack; its
        ``(channel ID, ts)``, or None (local-only, stopped, or not posted in time)."""
        outbox = self._outbox
        if outbox is None or not self._owns_message or not outbox.wait_posted(timeout):
            return None
        message = outbox.message
        return (message.channel_id, message.ts) if message.ts else None

    def update(self, text: str, *, blocks: list | None = None) -> None:
        """Make ``text`` (the full rendered message) the newest state. Never blocks, never raises.

        ``blocks`` (Block Kit) go with it; None keeps the message's blocks (a listening Stop
        button adds its own). A text over Slack's size is cut: render within
        :attr:`MirrorState.budget`. Does nothing in a process that does not own the message.
        """
        outbox = self._outbox
        if self._warnings or (outbox is not None and outbox.publisher.has_notices):
            self._emit_warnings()
        if outbox is None or self._finish_result is not None or not self._owns_message:
            return
        text = text if isinstance(text, str) else str(text)
        listener = self._listener
        if blocks is None and listener is not None and listener.listening:
            blocks, self._button_shown = report_blocks(text, listener.stream_id), True
        outbox.put(Edit(text, None if blocks is None else tuple(blocks)))

    def reply(self, key: str, text: str) -> None:
        """Post ``text`` in the message's thread now (once per ``key``); never blocks."""
        if self._outbox is not None and self._owns_message and self._finish_result is None:
            self._outbox.note(Note(str(key), str(text)))

    def edit_reply(self, key: str, text: str) -> None:
        """Make the reply posted under ``key`` say ``text`` (posted with it, if not posted yet)."""
        if self._outbox is not None and self._owns_message:
            self._outbox.note(Note(str(key), str(text)))

    def finish(self, text: str, *, outcome: Status | str, elapsed: str, error: str | None = None,
               traceback_tail: str | None = None, console_tail: str | None = None, alert: bool = True,
               mention: bool = True, blocks: list | None = None, chart: Drawing | None = None,
               uploads: Iterable[Upload] = ()) -> bool:
        """Deliver the final edit, the failure alert, the finish reply and the chart; True if all arrived.

        ``text`` names its mentions with :attr:`mention_slot`. ``outcome``: the final
        :class:`~slacknb.core.state.Status` (or its word in lower case). ``blocks`` replace the
        message's Block Kit blocks (``[]`` removes them; a Stop button is always removed).
        Waits at most ``flush_timeout``, then warns once about what did not arrive, which goes on
        in the background up to ``delivery_timeout``. False at once when local or stopped; a
        second call returns the first one's result. Without a message of its own: only the alert.
        """
        with self._lock:
            if self._finish_result is not None:
                return self._finish_result
            self._finish_result = False
        if self._listener is not None:
            self._listener.close()
        try:
            if chart is not None:
                title = f"{chart.label} · {chart.status}" if chart.label else chart.status
                uploads = (*uploads, Upload(chart, title=title))
            result = self._finish(text, outcome, str(elapsed), error, traceback_tail, console_tail, alert, mention,
                                  [] if self._button_shown and blocks is None else blocks, tuple(uploads))
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
        if self._listener is not None:
            self._listener.close()
        if self._outbox is not None:
            self._outbox.close()
        self._emit_warnings()

    def __repr__(self) -> str:
        state = self.state
        return (f"SlackMirror(channel={self.settings.channel!r}, status={state.status!r}, "
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
            error=error, traceback_tail=traceback_tail, console_tail=console_tail,
            prefix=self.settings.alert_prefix, alert=alert, mention=mention and bool(outbox.people.mentions),
            blocks=blocks, keep=(outcome.value, self.mention_slot), uploads=uploads)
        if not operations:
            return True  # nothing to say: this process's report lives in another's message
        flush = self.settings.flush_timeout
        now = self._clock.now()
        outbox.finish(operations, deadline=now + flush, give_up_at=now + self.settings.delivery_timeout)
        delivered = outbox.wait_finished(flush)
        # Not dropped: the worker goes on, and interpreter exit waits for it (bounded) and
        # tells what it found after the end.
        exit_wait.hold(outbox)
        if not delivered and not outbox.disabled and flush > 0:
            more = None if outbox.gave_up else self.settings.delivery_timeout - flush
            self._queue_warning(exit_wait.shortfall(outbox.undelivered(), waited=flush,
                                                    failure=outbox.last_failure, more=more))
        return delivered

    def _queue_warning(self, text: str) -> None:
        with self._lock:
            self._warnings.append(self._scrub(text))

    def _emit_warnings(self) -> None:
        # Raised on the caller's thread: a warning from the worker thread could land in
        # another notebook cell, or nowhere. The worker's own notices come first.
        notices = self._outbox.publisher.take_notices() if self._outbox is not None else []
        with self._lock:
            pending, self._warnings = notices + self._warnings, []
        for text in pending:
            warn(text, SlackMirrorWarning)
