"""One reported run: the report state, the renderer, the Slack mirror and the local views.

This is the part of a run that knows nothing of Chainer, so the Chainer
extension and the cell magic (a cell without any trainer is still one job)
share it. It never raises into its caller: a fault in slacknb itself becomes
one warning and the run goes on.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from slacknb.core import alerts
from slacknb.core.chart import ChartsUnavailable, Drawing, final_drawing, missing_once
from slacknb.core.guard import guarded
from slacknb.core.outcome import error_line, eta, traceback_tail
from slacknb.core.render import Renderer, format_hms
from slacknb.core.state import (
    COMPLETED,
    STARTED,
    STOPPED,
    TRAINING,
    ReportState,
)
from slacknb.core.stop import StopSignal
from slacknb.options import check_alert
from slacknb.slack.blocks import report_blocks
from slacknb.slack.buttons import allowed_people, stop_listener
from slacknb.slack.mirror import SlackMirror
from slacknb.slack.operations import Upload
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


class ReportRun:
    """Keeps one run's report and sends it to the views and to Slack.

    ``stop`` is the run's :class:`~slacknb.core.stop.StopSignal` and ``listener`` the
    Slack Stop button's (:class:`~slacknb.slack.buttons.StopListener`, or None). A
    framework that can end its loop at an iteration boundary sets :attr:`stoppable`
    and asks :meth:`should_stop` at each one.
    """

    def __init__(self, *, renderer: Renderer, mirror, views: Sequence = (),
                 alert: str = "all", min_iterations: int = 0,
                 refresh_interval: float = DEFAULT_REFRESH,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, plot: Sequence[str] | None = None,
                 stop: StopSignal | None = None, listener=None):
        self.renderer = renderer
        self.mirror = mirror
        self.views = list(views)
        self.alert = check_alert(alert)
        self.min_iterations = min_iterations
        self.refresh_interval = refresh_interval
        self.clock = clock
        # Wall-clock time for the message's "updated ..." line (clock is monotonic,
        # for pacing): injected, so tests set the time the message shows.
        self.wall_clock = wall_clock
        self.plot = plot  # the chart's entries (None: losses and accuracies; empty: no chart)
        self.state = ReportState(updated_at=wall_clock())
        self.iterations = 0
        self._last_push = None
        self._finished = False
        self._status_lock = threading.Lock()  # a stall watch marks the status from its own thread
        self._sync_lock = threading.Lock()
        self._shown_sync = None
        self.stop = stop if stop is not None else StopSignal()
        self.listener = listener
        self.stoppable = False
        self._stopped = False
        self._button_shown = False

    @classmethod
    def from_options(cls, options, *, views: Sequence, label: str, alert_label: str | None = None,
                     owns_message: bool = True, stop_button: bool = True) -> "ReportRun":
        """The run of one report, made from its :class:`~slacknb.options.ReportOptions`.

        ``stop_button=False`` leaves Slack's Stop button out whatever the options say
        (a multi-process job cannot stop all its ranks at one iteration)."""
        renderer = Renderer(template=options.template, max_bytes=options.max_bytes,
                            normalizer=options.len_normalizer)
        mirror = SlackMirror(options.access_token, options.channel_id, base_url=options.base_url,
                             mentions=options.finish_mentions or None, alert_prefix=options.alert_prefix,
                             min_interval=options.min_interval, flush_timeout=options.flush_timeout,
                             delivery_timeout=options.delivery_timeout, label=label, alert_label=alert_label,
                             owns_message=owns_message, local=options.local)
        stop = StopSignal()
        listener = None
        if options.stop_button and stop_button and owns_message and mirror.enabled:
            listener = stop_listener(token=options.access_token, base_url=options.base_url, signal=stop,
                                     allowed=allowed_people(options.stop_allowed, options.finish_mentions))
        return cls(renderer=renderer, mirror=mirror, views=views, alert=options.alert,
                   min_iterations=options.min_iterations, plot=options.plot, stop=stop, listener=listener)

    @property
    def finished(self) -> bool:
        return self._finished

    def frame(self) -> Frame:
        sync = self.mirror.state
        # Slack taught a smaller budget (msg_too_long): render within it, so nothing is cut.
        budget = getattr(sync, "budget", None)
        max_bytes = None if budget is None else max(256, min(self.renderer.max_bytes, budget))
        preview = self.renderer.render(self.state, max_bytes=max_bytes)
        return Frame(self.state, self.renderer.entries(self.state), preview, sync, self.renderer.context,
                     self._stop_for_views())

    def _stop_for_views(self) -> StopSignal | None:
        return self.stop if self.stoppable and not self._finished else None

    def should_stop(self) -> bool:
        """Asked at each iteration boundary: True once a Stop button was pressed (the run
        then ends as Stopped). Views get a moment to hear a click (bounded by each view)."""
        self._each_view("poll")
        if self.stop.requested is not None:
            self._stopped = True
            return True
        return False

    def _blocks(self, text: str) -> list | None:
        """The message's blocks: the report and the Stop button while Slack's listener is
        connected; None (keep what the message has) otherwise."""
        listener = self.listener
        if listener is None or not listener.listening:
            return None
        self._button_shown = True
        return report_blocks(text, listener.stream_id)

    @guarded("internal error ignored so training can go on")
    def start(self, *, log=None, entries=None, label: str = "") -> None:
        """The run begins: status Started, the views appear, the message is posted."""
        if log is not None:
            self.state.log = log
        self.state.entries = entries
        self.state.label = label
        self.state.status = STARTED
        if self.listener is not None:
            self.listener.start()
        self._each_view("show")
        self.push(force=True)

    @guarded("internal error ignored so training can go on")
    def tick(self, *, elapsed: float, progress: float | None = None,
             iterations: int | None = None, log_grew: bool = False) -> None:
        """Cheap per-iteration call: renders at most every ``refresh_interval``."""
        self.state.elapsed = elapsed
        self.state.progress = progress
        if iterations is not None:
            self.iterations = iterations
        if log_grew and self.state.status == STARTED:
            self.state.status = TRAINING
            self.push(force=True)
            return
        self.push()

    def push(self, force: bool = False) -> None:
        now = self.clock()
        if not force and self._last_push is not None and now - self._last_push < self.refresh_interval:
            return
        self._last_push = now
        self.state.eta = eta(self.state.elapsed, self.state.progress)
        self.state.updated_at = self.wall_clock()
        frame = self.frame()
        self.mirror.update(frame.preview, blocks=self._blocks(frame.preview))
        self._each_view("refresh", frame)

    def mark(self, status: str) -> None:
        """Show ``status`` (Stalled, or back) while the run goes on, from any thread; not once it ended."""
        with self._status_lock:
            if self._finished:
                return
            self.state.status = status
        self.push(force=True)

    @guarded("internal error ignored so training can go on")
    def finish(self, status: str, *, error: BaseException | None = None,
               console_tail: str | None = None, cause: str = "") -> bool:
        """The run ended (Completed, Failed, Interrupted, Terminated with the signal's name as
        ``cause``; Completed after a Stop click reads Stopped): deliver the final state.

        Waits for Slack only up to the mirror's ``flush_timeout`` (0 by default); returns True
        when the final edit and every reply were delivered by then. The delivery goes on in
        the background, and the views follow it until Slack has everything.
        """
        with self._status_lock:
            if self._finished:
                return True
            self._finished = True
        request = self.stop.requested
        if self._stopped and status == COMPLETED and request is not None:
            status = STOPPED
            self.state.stopped_by = request.description
        if cause:
            self.state.stopped_by = f"by {cause}"
        # From here on a click is told the run ended.
        self.stop.end(status)
        self.state.status = status
        self.state.eta = 0.0 if status == COMPLETED else None
        if status == COMPLETED:
            self.state.progress = 1.0 if self.state.progress is not None else None
        wants_reply = alerts.wants_reply(self.alert, status, iterations=self.iterations,
                                         min_iterations=self.min_iterations)
        self.state.mentions = self.mirror.mention_markup if wants_reply else ""
        self.state.updated_at = self.wall_clock()
        frame = self.frame()
        self._each_view("refresh", frame)
        delivered = self.mirror.finish(
            frame.preview,
            outcome=status,
            elapsed=format_hms(self.state.elapsed),
            error=cause or error_line(error),
            traceback_tail=traceback_tail(error),
            console_tail=console_tail,
            alert=wants_reply and status in alerts.ALERTED,
            mention=wants_reply,
            # The final edit takes the button away (an edit without blocks would keep it).
            blocks=[] if self._button_shown else None,
            uploads=self._chart_upload(),
        )
        if self.listener is not None:
            self.listener.close()
        # The sync state changed while Slack was flushed: show where it ended.
        final = Frame(self.state, frame.entries, frame.preview, self.mirror.state, frame.context)
        self._each_view("refresh", final)
        self._each_view("finish", final)
        if getattr(final.sync, "delivering", False):
            # Subscribed here, at the edge: the mirror publishes states and knows no views.
            self.mirror.subscribe(lambda _state: self._follow_delivery(final))
            self._follow_delivery(final)  # a state published before the subscription is not missed
        return delivered

    def _follow_delivery(self, final: Frame) -> None:
        """Show the views the mirror's newest state after the end of the run (any thread)."""
        with self._sync_lock:
            sync = self.mirror.state
            if sync is self._shown_sync:
                return
            self._shown_sync = sync
            self._each_view("finish", dataclasses.replace(final, sync=sync))

    def _chart_upload(self) -> tuple[Upload, ...]:
        """The final state's chart for the thread, drawn later by the Slack worker (not here)."""
        drawing = final_drawing(self.state, plot=self.plot)
        if drawing is None:
            return ()
        title = f"{drawing.label} · {drawing.status}" if drawing.label else drawing.status
        return (Upload(draw=_told_if_missing(drawing), filename=drawing.filename, title=title),)

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


def _told_if_missing(drawing: Drawing) -> Callable[[], bytes | None]:
    """``drawing``, or no chart and one line (per process, shared with the widget) without matplotlib."""

    def draw() -> bytes | None:
        try:
            return drawing()
        except ChartsUnavailable:
            line = missing_once()
            if line:
                print(line, file=sys.stderr)
            return None

    return draw
