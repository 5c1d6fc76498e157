"""``NotebookView``: the report in a notebook cell, live while the training cell runs.

With ipywidgets it displays a :class:`~slacknb.views.widget.ReportWidget` (whose
display also carries text/plain and text/html, for front ends without a
widget manager). Without ipywidgets, or with ``widgets=False``, it displays a
plain text/html + text/plain report through a display handle and replaces it
on every change.

:func:`mimebundle` is how a report object displays itself (``display(report)``
or as a cell's last value): text/plain, text/html and, while a widget shows the
same run, that widget's view.
"""

from __future__ import annotations

import numbers
from typing import Callable

from slacknb.core.guard import guarded
from slacknb.core.context import RunContext
from slacknb.runtime.clock import SYSTEM, Clock
from slacknb.views import html as report_html
from slacknb.views.drawing import ChartDrawer
from slacknb.views.kernel_poll import kernel_poller

__all__ = ["NotebookView", "ReportSnapshot", "mimebundle", "report_bundle"]

# How often the training thread lets a widget click in (see kernel_poll): a person
# waits a fifth of a second at most, and training pays one poll per that time.
POLL_INTERVAL = 0.2

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# How long the end of a run waits for its last chart (drawn on the drawing
# thread, ~0.1 s) so that the text/html a saved notebook keeps shows it.
FINAL_CHART_WAIT = 10.0

def report_bundle(frame, *, context: RunContext | None = None, max_rows: int = report_html.MAX_ROWS,
                  chart: bytes | None = None) -> dict:
    """text/plain and text/html of ``frame``: the report every front end can show.

    The one place a report's mimebundle is made: the widget, the widget-free
    snapshot and a report object displayed by itself all use it.
    """
    return {
        "text/plain": report_html.frame_text(frame, context=context, max_rows=max_rows),
        "text/html": report_html.frame_html(frame, context=context, max_rows=max_rows, chart=chart),
    }


def mimebundle(frame, *, widget=None, context: RunContext | None = None,
               max_rows: int = report_html.MAX_ROWS) -> dict:
    """:func:`report_bundle` of ``frame``, plus the widget view of ``widget``.

    ``widget`` defaults to the live :class:`~slacknb.views.widget.ReportWidget` that
    shows the same run (same ``ReportState``), when there is one.
    """
    if widget is None:
        widget = _live_widget(frame.state)
    chart = widget.drawer.latest if widget is not None else None
    data = report_bundle(frame, context=context, max_rows=max_rows, chart=chart)
    model_id = getattr(widget, "model_id", None) if widget is not None else None
    if model_id:
        data[_WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    return data


def _live_widget(state):
    try:
        from slacknb.views.widget import widget_for
    except ImportError:  # no ipywidgets: no widget can exist
        return None
    return widget_for(state)


class ReportSnapshot:
    """One frame as a displayable object (text/plain + text/html), for the widget-free view."""

    def __init__(self, frame, *, context: RunContext | None = None, max_rows: int = report_html.MAX_ROWS,
                 chart: bytes | None = None):
        self.frame = frame
        self.context = context
        self.max_rows = max_rows
        self.chart = chart

    def _repr_mimebundle_(self, include=None, exclude=None):
        return report_bundle(self.frame, context=self.context, max_rows=self.max_rows, chart=self.chart)

    def __repr__(self) -> str:
        return report_html.frame_text(self.frame, context=self.context, max_rows=self.max_rows)


class _Waiting:
    """What the widget-free view shows between ``show()`` and the first frame."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": "slacknb: waiting for the first report",
                "text/html": '<div class="slacknb-report" data-status="">waiting for the first report</div>'}


class NotebookView:
    """Shows a run in the current notebook cell and keeps it up to date.

    Options (keyword-only):

    * ``widgets``: True for the ipywidgets widget, False for the text/html
      report, None (default) for the widget when ipywidgets is installed.
    * ``display``: the display function, IPython's ``display`` by default; it
      is called as ``display(obj, display_id=True)`` and must return a handle
      with ``update(obj)``.
    * ``context``: host and path for the status line (default: this process).
    * ``max_rows``: log rows kept on screen (the newest; a note counts the rest).
    * ``plot``: the chart's entries (None: losses and accuracies; ``[]``: no chart).
    * ``poller``: returns what lets a click reach a busy kernel
      (:func:`~slacknb.views.kernel_poll.kernel_poller` by default); when it returns
      None the widget shows no Stop button. ``clock`` paces the polls.

    ``refresh(frame)`` skips a frame that shows nothing new; ``finish(frame)``
    always shows the frame and also refreshes the text/html saved with the
    notebook, so nbconvert and GitHub show the final report and its chart.
    The widget draws the chart live; the text/html report shows the final one.
    """

    def __init__(self, *, widgets: bool | None = None, display: Callable | None = None,
                 context: RunContext | None = None, max_rows: int = report_html.MAX_ROWS,
                 plot=None, poller: Callable = kernel_poller, clock: Clock = SYSTEM):
        if widgets not in (None, True, False):
            raise TypeError(f"widgets must be True, False or None (automatic), not {widgets!r}")
        if display is not None and not callable(display):
            raise TypeError("display must be a callable like IPython.display.display, or None")
        if isinstance(max_rows, bool) or not isinstance(max_rows, numbers.Integral) or max_rows < 1:
            raise ValueError(f"max_rows must be a whole number >= 1, not {max_rows!r}")
        max_rows = int(max_rows)
        if widgets is True:
            _require_ipywidgets()
        self._want_widgets = widgets
        self._display = display
        self.context = context
        self.max_rows = max_rows
        self.plot = ChartDrawer(plot=plot).plot  # checked here, before training starts
        self.widget = None
        self._shown = False
        self._handle = None
        self._last = None  # signature of what the widget-free view shows
        self._find_poller = poller
        self._poller = None
        self._clock = clock
        self._polled_at: float | None = None

    @property
    def uses_widget(self) -> bool:
        """True when the current run is shown by an ipywidgets widget."""
        return self.widget is not None

    @guarded("the notebook view stopped; training and the Slack mirror go on", stand_down=True)
    def show(self) -> None:
        """Display a new, empty report in the current cell (one per run)."""
        self._poller = self._find_poller() if self._want_widgets is not False else None
        self.widget = self._make_widget()
        self._last = None
        # Outside IPython, display() prints and returns no handle: nothing to update then.
        self._handle = self._show(self.widget if self.widget is not None else _Waiting())
        self._shown = True

    @guarded("the notebook view stopped; training and the Slack mirror go on", stand_down=True)
    def refresh(self, frame) -> None:
        """Show ``frame`` unless it shows the same as the last one."""
        if not self._shown:
            self.show()
        if self.widget is not None:
            self.widget.update(frame)
            return
        self._update_snapshot(frame, force=False)

    @guarded("the notebook view stopped; training and the Slack mirror go on", stand_down=True)
    def finish(self, frame) -> None:
        """Show the final frame, always, and make it what a saved notebook shows."""
        if not self._shown:
            self.show()
        if self.widget is not None:
            self.widget.update(frame, force=True)
            # Re-display so that the text/html and text/plain stored next to the
            # widget view are the final report (and chart), not the empty one from show().
            if self._handle is not None:
                self.widget.wait_chart(FINAL_CHART_WAIT)
                self._handle.update(self.widget)
            return
        # The widget-free view shows the final chart only: drawn off this thread too.
        drawer = ChartDrawer(plot=self.plot)
        drawer.submit(frame.state, final=True)
        self._update_snapshot(frame, force=True, chart=drawer.wait_final(FINAL_CHART_WAIT))

    @guarded("the notebook view stopped; training and the Slack mirror go on", stand_down=True)
    def poll(self) -> None:
        """Let a click on the widget's Stop button in (called between iterations; at most
        every :data:`POLL_INTERVAL` seconds it costs a look at the kernel's inbox)."""
        if self._poller is None or self.widget is None:
            return
        now = self._clock.now()
        if self._polled_at is not None and now - self._polled_at < POLL_INTERVAL:
            return
        self._polled_at = now
        self._poller.poll()

    def mimebundle(self, frame) -> dict:
        """``frame`` as text/plain + text/html, with this view's widget when it has one."""
        return mimebundle(frame, widget=self.widget, context=self.context, max_rows=self.max_rows)

    # -- helpers ---------------------------------------------------------------------

    def _make_widget(self):
        if self._want_widgets is False:
            return None
        try:
            from slacknb.views.widget import ReportWidget
        except ImportError:
            return None  # widgets=None: fall back to text/html without a fuss
        return ReportWidget(context=self.context, max_rows=self.max_rows, plot=self.plot,
                            stop_button=self._poller is not None)

    def _show(self, obj):
        display = self._display
        if display is None:
            from IPython.display import display
        return display(obj, display_id=True)

    def _update_snapshot(self, frame, *, force: bool, chart: bytes | None = None) -> None:
        key = report_html.frame_signature(frame)
        if not force and self._last is not None and self._last == key:
            return
        self._last = key
        if self._handle is not None:
            self._handle.update(ReportSnapshot(frame, context=self.context, max_rows=self.max_rows, chart=chart))


def _require_ipywidgets() -> None:
    try:
        import ipywidgets  # noqa: F401
    except ImportError as exc:
        raise ImportError("NotebookView(widgets=True) needs ipywidgets: pip install 'ipywidgets>=8', "
                          "or pass widgets=None to fall back to a text/html report") from exc
