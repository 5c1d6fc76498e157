"""``ReportWidget``: the live report as an ipywidgets widget.

Every trait assignment is a comm message to the browser, and updates come from
the training thread. So :meth:`ReportWidget.update` works out every new value
first, assigns only the ones that changed, and does so inside ``hold_sync()``
of each changed widget: one message per changed part, none for a frame that
shows nothing new. The content is made by :mod:`slacknb.views.html`, the same
code that makes the text/html fallback.

The chart under the progress bar is drawn by a :class:`ChartDrawer` on its own
thread: the training thread only hands it the newest state, and the drawing
thread sends the picture when it is ready.

The widget holds no secret: its traits are the rendered report, the sync state
and the message preview, all of which are written into a saved notebook.

While a run can be stopped (its frame carries a StopSignal) a Stop button shows; a
click asks for a graceful stop at the next iteration boundary (the notebook view
lets the click reach a kernel busy training: :mod:`slacknb.views.kernel_poll`).
"""

from __future__ import annotations

import numbers
import weakref
from contextlib import ExitStack

import ipywidgets as widgets

from slacknb.core.context import RunContext
from slacknb.core.stop import StopRequest
from slacknb.core.trend import trend
from slacknb.views import html as report_html
from slacknb.views.drawing import ChartDrawer
from slacknb.views.notebook import report_bundle

__all__ = ["ReportWidget", "widget_for"]

_WAITING = '<div class="slacknb-status" data-status="" style="opacity:0.7">waiting for the first report</div>'

# The widget that shows each run, by id of the run's ReportState, so that the
# report object can offer the same live widget when displayed again.
_by_state: "weakref.WeakValueDictionary[int, ReportWidget]" = weakref.WeakValueDictionary()


def widget_for(state) -> "ReportWidget | None":
    """The live widget showing the run whose ``ReportState`` is ``state``, if any."""
    widget = _by_state.get(id(state))
    if widget is not None and widget.frame is not None and widget.frame.state is state:
        return widget
    return None


class ReportWidget(widgets.VBox):
    """Status line, progress bar, chart, log table and Slack panel of one run.

    ``context`` gives host and path for the status line (default: the frame's
    own, else this process's); ``max_rows`` is how many log rows stay in the
    DOM; ``plot`` chooses the chart's entries (None: losses and accuracies,
    ``[]``: no chart); ``stop_button=False`` never shows the Stop button. Call
    :meth:`update` with each new frame.
    """

    def __init__(self, *, context: RunContext | None = None, max_rows: int = report_html.MAX_ROWS,
                 plot=None, stop_button: bool = True, **kwargs):
        if isinstance(max_rows, bool) or not isinstance(max_rows, numbers.Integral) or max_rows < 1:
            raise ValueError(f"max_rows must be a whole number >= 1, not {max_rows!r}")
        max_rows = int(max_rows)
        # Class names go in at construction: adding them later costs a message each.
        status_line = widgets.HTML(_WAITING, _dom_classes=("slacknb-status-line",))
        bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="",
                                    layout=widgets.Layout(width="auto", display="none"),
                                    _dom_classes=("slacknb-progress-bar",))
        stop = widgets.Button(description="Stop", button_style="danger", icon="stop",
                              tooltip="Stop after the current iteration (finalizers still run)",
                              layout=widgets.Layout(display="none", width="auto", align_self="flex-start"),
                              _dom_classes=("slacknb-stop-button",))
        chart = widgets.Image(format="png", layout=widgets.Layout(display="none", max_width="100%", height="auto"),
                              _dom_classes=("slacknb-chart",))
        table = widgets.HTML("", _dom_classes=("slacknb-table-box",))
        sync = widgets.HTML("", _dom_classes=("slacknb-sync-line",))
        preview = widgets.HTML("", _dom_classes=("slacknb-preview-pane",))
        slack = widgets.Accordion(children=[preview], titles=("Slack message",), selected_index=0,
                                  _dom_classes=("slacknb-slack-message",))
        super().__init__(children=[status_line, bar, chart, stop, table, sync, slack],
                         _dom_classes=("slacknb-report",), **kwargs)
        self.status_line, self.bar, self.table, self.sync, self.preview = status_line, bar, table, sync, preview
        self.chart = chart
        self.drawer = ChartDrawer(plot=plot, on_drawn=self._show_chart)
        self._submitted = None
        self._trend_key, self._trend = None, ""
        self.stop_button = stop
        self._can_stop = bool(stop_button)
        self._stop = None  # the StopSignal of the run shown, while it can be stopped
        stop.on_click(self._stop_clicked)
        self.context = context
        self._detected = None
        self.max_rows = max_rows
        self.frame = None
        self._key = None
        self._rows_key = None
        self._rows: dict[int, str] = {}
        self._table_key = None

    def update(self, frame, *, force: bool = False) -> bool:
        """Show ``frame``; True when anything was sent to the front end.

        A frame that would show the same as the last one costs a tuple
        comparison and sends nothing, unless ``force`` (the final frame).
        """
        stop = getattr(frame, "stop", None) if self._can_stop else None
        key = (report_html.frame_signature(frame), stop is not None)
        if not force and key == self._key:
            return False
        self._stop = stop
        stopping = stop is not None and stop.requested is not None
        self._key = key
        self.frame = frame
        _by_state[id(frame.state)] = self
        state = frame.state
        context = self._context(frame)
        value = report_html.bar_value(state)
        self._hand_to_drawer(state)
        wanted = [
            (self.status_line, "value", report_html.status_html(state, context, self._trend_of(state.log),
                                                                scrub=report_html.frame_scrub(frame))),
            (self.bar, "value", value if value is not None else 0.0),
            (self.bar, "bar_style", report_html.bar_style(state.status)),
            (self.bar, "description", report_html.percent_text(state)),
            (self.bar.layout, "display", "none" if value is None else ""),
            (self.table, "value", self._table_html(state.log, frame.entries, report_html.frame_scrub(frame))),
            (self.sync, "value", report_html.sync_html(frame.sync)),
            (self.preview, "value", report_html.preview_html(frame.preview, frame.sync)),
            (self.stop_button.layout, "display", "none" if stop is None else ""),
            (self.stop_button, "disabled", stop is None or stopping),
            (self.stop_button, "description", "Stopping..." if stopping else "Stop"),
            (self, "_dom_classes", ("slacknb-report", "slacknb-" + state.status.lower())),
        ]
        changed = [(owner, name, new) for owner, name, new in wanted if getattr(owner, name) != new]
        if not changed:
            return False
        with ExitStack() as stack:
            for owner in dict.fromkeys(owner for owner, _, _ in changed):
                stack.enter_context(owner.hold_sync())
            for owner, name, new in changed:
                setattr(owner, name, new)
        return True

    def _stop_clicked(self, _button) -> None:
        stop = self._stop
        if stop is None or stop.request(StopRequest("notebook")) is None:
            return
        with self.stop_button.hold_sync():
            self.stop_button.disabled = True
            self.stop_button.description = "Stopping..."

    def _hand_to_drawer(self, state) -> None:
        # The training thread's whole share of a chart: a snapshot, when the log or status changed.
        shows = (id(state.log), len(state.log), state.status)
        if shows != self._submitted:
            self._submitted = shows
            self.drawer.submit(state, final=state.finished)

    def _trend_of(self, log) -> str:
        key = (id(log), len(log))
        if key != self._trend_key:  # a new second without a new row costs nothing
            self._trend_key, self._trend = key, trend(log)
        return self._trend

    def _show_chart(self, png: bytes) -> None:
        # On the drawing thread: the picture goes to the browser from there.
        self.chart.value = png
        if self.chart.layout.display == "none":
            self.chart.layout.display = ""

    def close(self):
        """Close the widget and stop its drawing thread."""
        drawer = getattr(self, "drawer", None)  # None: construction failed part way
        if drawer is not None:
            drawer.close()
        super().close()

    def wait_chart(self, timeout: float) -> bytes | None:
        """Wait up to ``timeout`` s for the final chart (drawn on the drawing thread); the newest chart."""
        return self.drawer.wait_final(timeout)

    def _context(self, frame) -> RunContext:
        if self.context is not None:
            return self.context
        own = getattr(frame, "context", None)
        if isinstance(own, RunContext):
            return own
        if self._detected is None:
            self._detected = RunContext.detect()  # once per widget, not on every refresh
        return self._detected

    def _table_html(self, log, entries, scrub) -> str:
        total = len(log)
        key = (id(log), total, entries)
        if key == self._table_key:
            return self.table.value
        # Row HTML is made once per row: only the new rows cost anything.
        if self._rows_key != (id(log), entries):
            self._rows_key, self._rows = (id(log), entries), {}
        first = max(0, total - self.max_rows)
        rows = []
        for index in range(first, total):
            row = self._rows.get(index)
            if row is None:
                row = self._rows[index] = report_html.row_html(log[index], entries, scrub=scrub)
            rows.append(row)
        for index in [i for i in self._rows if i < first]:
            del self._rows[index]
        self._table_key = key
        return report_html.table_html(log, entries, max_rows=self.max_rows, rows=rows)

    def _repr_mimebundle_(self, **kwargs):
        # The widget view where a widget manager runs; elsewhere (nbconvert,
        # GitHub, a saved notebook) the same report as text/html and text/plain.
        data = super()._repr_mimebundle_(**kwargs)
        if self.frame is not None:
            data.update(report_bundle(self.frame, context=self._context(self.frame), max_rows=self.max_rows,
                                      chart=self.drawer.latest))
        return data

