"""``ChartDrawer``: a run's charts drawn on one background thread, newest state wins.

A chart costs tens of milliseconds; a training trigger must cost microseconds.
So the training thread only hands over a snapshot of the state (the log and
its length: the log is append-only), and one drawing thread draws the newest
snapshot it holds, at most once per ``interval`` (less often when charts cost
more: see ``DUTY``); snapshots handed over in between replace each other
(the one latest-wins worker, :mod:`slacknb.runtime.worker`). The final snapshot is drawn at
once. Across runs (and the Slack worker), one chart
is drawn at a time: :mod:`slacknb.core.chart` serialises matplotlib.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from slacknb.core import chart, series
from slacknb.runtime.clock import SYSTEM, Clock
from slacknb.runtime.worker import STOP, Worker

__all__ = ["ChartDrawer", "DEFAULT_INTERVAL"]

# "A few seconds apart at most" while training. matplotlib holds the GIL
# while it draws (~80 ms), and a training thread that releases the GIL often
# (numpy, BLAS) waits for it each time, so drawing is also paced by its own
# cost: the drawing thread is busy at most 1/DUTY of the time (bench/chart.py).
DEFAULT_INTERVAL = 2.0
DUTY, MAX_PAUSE = 25, 6.0  # but never more than MAX_PAUSE between charts


@dataclass(frozen=True)
class _Snapshot:
    status: str
    label: str
    log: Sequence
    rows: int
    final: bool


class ChartDrawer:
    """Draws the charts of one run off the training thread (:class:`slacknb.runtime.worker.Worker`).

    ``on_drawn(png)`` is called on the drawing thread with each new chart;
    ``plot`` chooses the entries (see :func:`slacknb.core.chart.chart_png`);
    ``clock`` paces the drawings. The thread starts with the first snapshot
    and ends after the final one.
    """

    def __init__(self, *, plot: Sequence[str] | None = None, interval: float = DEFAULT_INTERVAL,
                 on_drawn: Callable[[bytes], None] | None = None, clock: Clock = SYSTEM):
        self.plot = series.check_plot(plot)
        self.interval = interval
        self.on_drawn = on_drawn
        self.clock = clock
        self.latest: bytes | None = None  # the newest chart drawn
        self.drawn = 0
        self.busy = 0.0  # CPU seconds the drawing thread spent drawing
        self._columns = series.Columns()
        self._worker: Worker[_Snapshot] = Worker(self._step, clock=clock, name="slacknb-chart")
        self._done = threading.Condition()
        self._shown: tuple | None = None  # what the newest chart shows
        self._final_done = False
        self._stopped = self.plot == ()  # plot=[]: charts off
        self._last_draw: float | None = None
        self._last_cost = 0.0  # seconds the last chart took

    @property
    def enabled(self) -> bool:
        return not self._stopped

    def submit(self, state, *, final: bool = False) -> None:
        """Hand over the state to draw (training thread: no drawing, no waiting)."""
        if self._stopped:
            return
        log = state.log
        snapshot = _Snapshot(str(getattr(state.status, "value", state.status)), state.label, log,
                             len(log), final)
        with self._worker.lock:
            waiting = self._worker.peek()
            if self._final_done or (waiting is not None and waiting.final):
                return
            # Wake the drawing thread only when it waits for work (or for the final chart):
            # waking it on every trigger would make the two threads trade the GIL on every
            # trigger, which costs training more than the drawing does. A snapshot that
            # replaces a waiting one is picked up when the pace allows.
            self._worker.put(snapshot, wake=waiting is None or final)

    def wait_final(self, timeout: float) -> bytes | None:
        """Wait up to ``timeout`` s for the final chart; the newest chart either way."""
        with self._done:
            self._done.wait_for(lambda: self._final_done or self._stopped, timeout)
        return self.latest

    def close(self) -> None:
        """Stop drawing (a snapshot being drawn is finished first)."""
        self._stopped = True
        self._worker.close()
        with self._done:
            self._done.notify_all()

    def _due(self, snapshot: _Snapshot) -> float:
        """Seconds until ``snapshot`` may be drawn (0: now)."""
        if snapshot.final or self._last_draw is None:
            return 0.0
        pause = max(self.interval, min(DUTY * self._last_cost, MAX_PAUSE))
        return max(0.0, self._last_draw + pause - self.clock.now())

    def _step(self) -> float | None:
        """One turn of the drawing thread: wait for a snapshot and the pace, then draw the newest."""
        snapshot = self._worker.peek()
        if snapshot is None:
            return None  # until a snapshot comes
        due = self._due(snapshot)
        if due > 0:
            return due  # a newer snapshot (or a final one) may replace it meanwhile
        self._worker.take()
        self._draw(snapshot)
        if snapshot.final:
            with self._done:
                self._final_done = True
                self._done.notify_all()
            return STOP
        return 0.0

    def _draw(self, snapshot: _Snapshot) -> None:
        shows = (snapshot.status, snapshot.label, id(snapshot.log), snapshot.rows)
        if shows == self._shown:
            return
        self._last_draw = self.clock.now()
        try:
            chart.available()  # the first import of matplotlib is not a chart's cost
            began, cpu = time.perf_counter(), time.thread_time()
            png = chart.chart_png(snapshot, plot=self.plot, columns=self._columns, upto=snapshot.rows)
            self._last_cost = time.perf_counter() - began
            self.busy += time.thread_time() - cpu
            self._shown = shows
            if png is not None:
                self.latest = png
                self.drawn += 1
                if self.on_drawn is not None:
                    self.on_drawn(png)
        except chart.ChartsUnavailable:
            line = chart.missing_once()
            if line:
                print(line, file=sys.stderr)  # one line, not a warning with its source
            self.close()
        except Exception as exc:  # noqa: BLE001 - a chart is never worth a lost run
            warnings.warn(f"slacknb: charts stopped for this run ({type(exc).__name__}: {exc}); "
                          "training and the report go on", RuntimeWarning, stacklevel=2)
            self.close()
