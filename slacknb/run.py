"""One reported run: the report state, the renderer, the Slack mirror and the local views.

This is the part of a run that knows nothing of Chainer or ppe, so the frameworks' extensions
and the cell magic (a cell without any trainer is still one job) share it. What they need is a
handful of verbs: :meth:`ReportRun.start`, :meth:`ReportRun.record` as training goes,
:meth:`ReportRun.should_stop` at iteration boundaries, and :meth:`ReportRun.finish` with one
:class:`~slacknb.core.outcome.Ending`; nobody else writes its fields. It never raises into its
caller: a fault in slacknb itself becomes one warning and the run goes on.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings
from dataclasses import dataclass
from typing import Sequence

from slacknb.core import alerts
from slacknb.core.chart import final_drawing
from slacknb.core.guard import guarded
from slacknb.core.mentions import fill_slot
from slacknb.core.outcome import Ending, error_line, eta, traceback_tail
from slacknb.core.render import Renderer, format_hms
from slacknb.core.state import COMPLETED, FAILED, STARTED, STOPPED, TRAINING, ReportState
from slacknb.core.stop import StopSignal
from slacknb.options import check_alert
from slacknb.runtime.clock import SYSTEM, Clock
from slacknb.slack.mirror import SlackMirror
from slacknb.views.select import default_views

__all__ = ["DEFAULT_REFRESH", "Frame", "ReportRun", "default_views"]

# Rendering more often than this only burns the training thread: Slack edits
# are rarer still (min_interval) and a person cannot read faster.
DEFAULT_REFRESH = 0.5


@dataclass(frozen=True)
class Frame:
    """What a local view shows: the state, the exact Slack text, the sync state."""

    state: ReportState
    entries: tuple
    preview: str
    sync: object  # MirrorState
    context: object = None  # RunContext: host, directory, command
    stop: StopSignal | None = None  # where a Stop button writes, while the run can be stopped
    scrub: object = None  # the run's Scrubber: what a view shows besides the preview goes through it


class ReportRun:
    """Keeps one run's report and sends it to the views and to Slack.

    ``stop`` is the run's :class:`~slacknb.core.stop.StopSignal` (the Stop buttons write into
    it); a framework that can end its loop at an iteration boundary starts the run with
    ``stoppable=True`` and asks :meth:`should_stop` at each one. ``clock`` gives the pace of
    the renders (monotonic) and the message's "updated" time (wall clock).
    """

    def __init__(self, *, renderer: Renderer, mirror, views: Sequence = (), alert: str = "all",
                 min_iterations: int = 0, refresh_interval: float = DEFAULT_REFRESH, clock: Clock = SYSTEM,
                 plot: Sequence[str] | None = None, stop: StopSignal | None = None):
        self.renderer = renderer
        self.mirror = mirror
        self.views = list(views)
        self.alert = check_alert(alert)
        self.min_iterations = min_iterations
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.plot = plot  # the chart's entries (None: losses and accuracies; empty: no chart)
        self.state = ReportState(updated_at=clock.time())
        self.iterations = 0
        self._last_push = None
        self._finished = False
        self._status_lock = threading.Lock()  # a stall watch marks the status from its own thread
        self._push_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._shown_sync = None
        self._final: Frame | None = None
        self._final_text = ""
        self.stop = stop if stop is not None else StopSignal()
        self.stoppable = False
        self._stopped = False

    @classmethod
    def from_options(cls, options, *, views: Sequence, label: str, alert_label: str | None = None,
                     owns_message: bool = True, stop_button: bool = True, parent=None) -> "ReportRun":
        """The run of one report, made from its :class:`~slacknb.options.ReportOptions` (whose
        Slack settings were resolved once, when the options were checked).

        ``stop_button=False`` leaves Slack's Stop button out whatever the options say
        (a multi-process job cannot stop all its ranks at one iteration). ``parent``: the message
        whose thread the report is a reply in, ``(channel, ts)`` (an Optuna trial's, its board's)."""
        renderer = Renderer(template=options.template, max_bytes=options.max_bytes,
                            normalizer=options.len_normalizer, scrub=options.slack.scrub)
        stop = StopSignal()
        button = options.stop_button and stop_button and owns_message
        mirror = SlackMirror(settings=options.slack, label=label, alert_label=alert_label,
                             owns_message=owns_message, stop=stop if button else None, parent=parent)
        return cls(renderer=renderer, mirror=mirror, views=views, alert=options.alert,
                   min_iterations=options.min_iterations, plot=options.plot, stop=stop)

    @property
    def finished(self) -> bool:
        return self._finished

    def text(self) -> str:
        """The message as Slack gets it now (a final one names its mentions with the mirror's slot)."""
        # Slack taught a smaller budget (msg_too_long): render within it, so nothing is cut.
        budget = getattr(self.mirror.state, "budget", None)
        max_bytes = None if budget is None else max(256, min(self.renderer.max_bytes, budget))
        return self.renderer.render(self.state, max_bytes=max_bytes)

    def frame(self, text: str | None = None) -> Frame:
        """What the views show: ``text`` (default: :meth:`text`) with the mentions known so far."""
        sync = self.mirror.state
        preview = fill_slot(self.text() if text is None else text, _mentions_shown(sync))
        return Frame(self.state, self.renderer.entries(self.state), preview, sync, self.renderer.context,
                     self.stop if self.stoppable and not self._finished else None, self.renderer.scrub)

    def should_stop(self) -> bool:
        """Asked at each iteration boundary: True once a Stop button was pressed (the run
        then ends as Stopped). Views get a moment to hear a click (bounded by each view)."""
        self._each_view("poll")
        if self.stop.requested is not None:
            self._stopped = True
            return True
        return False

    @guarded("internal error ignored so training can go on")
    def start(self, *, log=None, entries=None, label: str = "", stoppable: bool = False) -> None:
        """The run begins: status Started, the views appear, the message is posted."""
        if log is not None:
            self.state.log = log
        self.state.entries = entries
        self.state.label = label
        self.state.status = STARTED
        self.stoppable = stoppable
        self.mirror.listen()
        self._each_view("show")
        self.push(force=True)

    @guarded("internal error ignored so training can go on")
    def record(self, *, elapsed: float, progress: float | None = None, iterations: int | None = None,
               log_grew: bool = False, render: bool = True) -> None:
        """Cheap per-iteration call: renders at most every ``refresh_interval`` (never with
        ``render=False``: the last record before :meth:`finish`)."""
        self.state.elapsed = elapsed
        self.state.progress = progress
        if iterations is not None:
            self.iterations = iterations
        if not render:
            return
        if log_grew and self.state.status == STARTED:
            self.state.status = TRAINING
            self.push(force=True)
            return
        self.push()

    def relabel(self, label: str) -> None:
        """Name the run ``label`` (rank 0's, learned at the start of a multi-process job)."""
        self.state.label = label

    def add_views(self, views: Sequence) -> None:
        """Show the run in ``views`` too, from now on (a cell job posted before its cell ended)."""
        for view in views:
            view.show()
        self.views += list(views)

    def push(self, force: bool = False) -> None:
        now = self.clock.now()
        if not force and self._last_push is not None and now - self._last_push < self.refresh_interval:
            return
        # One render at a time: a stall watch marks the status from its own thread.
        with self._push_lock:
            self._last_push = now
            self.state.eta = eta(self.state.elapsed, self.state.progress)
            self.state.updated_at = self.clock.time()
            text = self.text()
            self.mirror.update(text)
            self._each_view("refresh", self.frame(text))

    def mark(self, status: str) -> None:
        """Show ``status`` (Stalled, or back) while the run goes on, from any thread; not once it ended."""
        with self._status_lock:
            if self._finished:
                return
            self.state.status = status
        self.push(force=True)

    @guarded("internal error ignored so training can go on")
    def finish(self, ending: Ending) -> bool:
        """The run ended: deliver the final state (Terminated names its signal, ``ending.cause``).

        Waits for Slack only up to the mirror's ``flush_timeout`` (0 by default); returns True
        when the final edit and every reply were delivered by then. The delivery goes on in
        the background, and the views follow it until Slack has everything.
        """
        with self._status_lock:
            if self._finished:
                return True
            self._finished = True
        status = ending.status
        request = self.stop.requested
        if self._stopped and status == COMPLETED and request is not None:
            status = STOPPED
            self.state.stopped_by = request.description
        if ending.cause:
            self.state.stopped_by = f"by {ending.cause}"  # {status}: "Terminated by SIGTERM"
        self.stop.end(status)  # from here on a click is told the run ended
        self.state.status = status
        self.state.eta = 0.0 if status == COMPLETED else None
        if status == COMPLETED:
            self.state.progress = 1.0 if self.state.progress is not None else None
        wants_reply = ending.alert and alerts.wants_reply(self.alert, status, iterations=self.iterations,
                                                          min_iterations=self.min_iterations)
        # Named in the final message by a slot the Slack worker fills once they are looked up.
        self.state.mentions = self.mirror.mention_slot if wants_reply else ""
        self.state.updated_at = self.clock.time()
        text = self._final_text = self.text()
        self._each_view("refresh", self.frame(text))
        error = ending.error if status == FAILED else None
        delivered = self.mirror.finish(
            text, outcome=status,
            elapsed=format_hms(self.state.elapsed), error=ending.cause or error_line(error),
            traceback_tail=traceback_tail(error), console_tail=ending.console_tail, alert=wants_reply,
            mention=wants_reply, chart=final_drawing(self.state, plot=self.plot))
        # The sync state changed while Slack was flushed: show where it ended.
        self._final = self.frame(text)
        self._each_view("refresh", self._final)
        self._each_view("finish", self._final)
        if getattr(self._final.sync, "delivering", False):
            # The views follow the delivery that goes on after the run returned.
            self.mirror.subscribe(self._synced)
            self._synced(self.mirror.state)  # a state published before the subscription is not missed
        return delivered

    def _synced(self, sync) -> None:
        """The mirror published ``sync`` after the end of the run: show it (any thread)."""
        with self._sync_lock:
            sync = self.mirror.state
            if sync is self._shown_sync:
                return
            self._shown_sync = sync
            final = dataclasses.replace(self._final, sync=sync, preview=fill_slot(self._final_text,
                                                                                  _mentions_shown(sync)))
            self._each_view("finish", final)

    def _each_view(self, method: str, *args) -> None:
        """Call ``method`` on every view; one failing view stops neither the others nor Slack."""
        for view in self.views:
            call = getattr(view, method, None)
            if call is None:
                continue
            try:
                call(*args)
            except Exception as exc:  # noqa: BLE001 - a view is never worth a lost run
                if not getattr(self, "_faulted", False):
                    self._faulted = True
                    warnings.warn(f"slacknb: the {type(view).__name__} failed and is skipped: "
                                  f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)


def _mentions_shown(sync) -> str:
    """The mentions as the message names them: as sent in the final text, else as known so far."""
    final = getattr(sync, "final_mentions", None)
    return getattr(sync, "mentions", "") if final is None else final
