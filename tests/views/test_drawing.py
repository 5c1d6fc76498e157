"""ChartDrawer: charts drawn off the training thread, newest state wins, one at a time."""

import threading
import warnings
from types import SimpleNamespace

import pytest

from slacknb.core import chart
from slacknb.views.drawing import ChartDrawer

from support.clock import FakeClock

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_state(rows: int, status="Training"):
    log = [{"epoch": i // 5 + 1, "iteration": i + 1, "main/loss": 1.0 / (i + 1)} for i in range(rows)]
    return SimpleNamespace(status=status, label="run", log=log)


class Recorder:
    def __init__(self):
        self.charts, self.threads = [], []
        self.drawn = threading.Condition()

    def __call__(self, png):
        with self.drawn:
            self.charts.append(png)
            self.threads.append(threading.get_ident())
            self.drawn.notify_all()

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        with self.drawn:
            assert self.drawn.wait_for(lambda: len(self.charts) >= count, timeout), self.charts


@pytest.fixture
def rows_drawn(monkeypatch):
    """The number of log rows each chart was drawn from, and on which thread."""
    calls = []
    real = chart.chart_png

    def counting(state, **kwargs):
        calls.append((kwargs["upto"], state.status, threading.get_ident()))
        return real(state, **kwargs)

    monkeypatch.setattr(chart, "chart_png", counting)
    return calls


def test_newest_state_wins_and_the_final_one_cuts_through_the_pace(rows_drawn):
    recorder = Recorder()
    drawer = ChartDrawer(on_drawn=recorder, clock=FakeClock(), interval=5.0)  # time stands still
    state = run_state(10)
    drawer.submit(state)
    recorder.wait_for(1)
    # Paced (the clock stands still): these replace each other and wait.
    for more in range(11, 20):
        state.log.append({"epoch": 3, "iteration": more, "main/loss": 0.01})
        drawer.submit(state)
    state.log.append({"epoch": 4, "iteration": 20, "main/loss": 0.005})
    state.status = "Completed"
    drawer.submit(state, final=True)
    final = drawer.wait_final(timeout=30)
    assert [(rows, status) for rows, status, _ in rows_drawn] == [(10, "Training"), (20, "Completed")]
    assert final == recorder.charts[-1] and final.startswith(PNG_SIGNATURE)
    assert threading.get_ident() not in {thread for _, _, thread in rows_drawn}
    assert threading.get_ident() not in recorder.threads
    # After the final chart nothing more is drawn.
    drawer.submit(state)
    assert drawer.wait_final(timeout=1) == final and drawer.drawn == 2


def test_the_training_thread_never_draws(rows_drawn):
    drawer = ChartDrawer(interval=0.0)
    state = run_state(5)
    for more in range(50):
        state.log.append({"iteration": 6 + more, "main/loss": 0.1})
        drawer.submit(state)
    drawer.submit(state, final=True)
    assert drawer.wait_final(timeout=30) is not None
    assert rows_drawn and all(thread != threading.get_ident() for _, _, thread in rows_drawn)
    assert rows_drawn[-1][0] == 55


def test_one_chart_at_a_time_across_runs(monkeypatch):
    busy, most = [0], [0]
    lock = threading.Lock()
    real = chart._draw

    def watched(*args):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        try:
            return real(*args)
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(chart, "_draw", watched)
    drawers = [ChartDrawer(interval=0.0) for _ in range(4)]
    states = [run_state(20 + i) for i in range(4)]
    for _ in range(3):
        for drawer, state in zip(drawers, states):
            state.log.append({"iteration": len(state.log) + 1, "main/loss": 0.1})
            drawer.submit(state)
    for drawer, state in zip(drawers, states):
        drawer.submit(state, final=True)
    # The Slack worker's end-of-run chart at the same time.
    final = chart.final_drawing(run_state(40, status="Completed"))
    slack_worker = threading.Thread(target=final)
    slack_worker.start()
    for drawer in drawers:
        assert drawer.wait_final(timeout=60) is not None
    slack_worker.join(timeout=60)
    assert most[0] == 1


def test_plot_empty_turns_charts_off(rows_drawn):
    drawer = ChartDrawer(plot=[])
    drawer.submit(run_state(5), final=True)
    assert not drawer.enabled and drawer.wait_final(timeout=1) is None and rows_drawn == []


def test_missing_matplotlib_is_one_line_for_all_runs(monkeypatch, capsys):
    def unavailable(state, **kwargs):
        raise chart.ChartsUnavailable(chart.MISSING)

    monkeypatch.setattr(chart, "chart_png", unavailable)
    monkeypatch.setattr(chart, "available", lambda: chart.MISSING)
    monkeypatch.setattr(chart, "_told_missing", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a line, not a warning
        for _ in range(3):
            drawer = ChartDrawer()
            drawer.submit(run_state(5), final=True)
            assert drawer.wait_final(timeout=30) is None
    assert capsys.readouterr().err.splitlines() == [chart.MISSING]


def test_a_failing_chart_stops_charts_with_one_warning(monkeypatch):
    def broken(state, **kwargs):
        raise RuntimeError("font cache is gone")

    monkeypatch.setattr(chart, "chart_png", broken)
    drawer = ChartDrawer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawer.submit(run_state(5), final=True)
        assert drawer.wait_final(timeout=30) is None
    assert len(caught) == 1 and "font cache is gone" in str(caught[0].message)
    assert not drawer.enabled
