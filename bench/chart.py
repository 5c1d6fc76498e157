"""Cost of one chart as the log grows (1k, 10k, 100k rows), and what charts cost training.

Usage: python bench/chart.py [--repeat 7] [--seconds 4] [--rounds 5]

One chart:

- cold: the first chart of a run (every row read, as the end-of-run chart in
  Slack does);
- redraw: the live widget's next chart, 100 rows later, with the columns
  already read kept (``slacknb.core.series.Columns``).
Rows look like Chainer's LogReport with a log trigger per iteration: losses,
accuracies, validation entries at each epoch's end. Medians of --repeat runs;
the ratio is against 1,000 rows measured in the same run.

The training thread with charts off and on (same run, --rounds of --seconds
each, the cases interleaved): training steps (a 300x300 matrix product and a
log row), each followed by a widget refresh as bench/widget.py measures it (a
2,000-row log, comm messages serialised like the kernel's). With charts on the
widget's drawing thread draws the newest state as its pacing allows (every 2 s,
or 25 times the last chart's cost if longer, at most 6 s). Figures: the
refresh on the training thread (what a trigger costs, ratio against charts
off), charts drawn per second, and the drawing thread's CPU time per second of
training (its share of the GIL, which training gives up while a chart is
drawn). Training throughput itself varies by more than that share on a shared
machine, so it is not shown.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import time
from types import SimpleNamespace

import numpy as np

from slacknb.core.chart import WIDTH_PX, chart_png
from slacknb.core.series import Columns

SIZES = (1_000, 10_000, 100_000)


def make_log(rows: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    per_epoch = max(1, rows // 20)
    log = []
    for i in range(rows):
        fall = math.exp(-3 * i / rows)
        row = {"epoch": i // per_epoch + 1, "iteration": i + 1,
               "main/loss": 2 * fall + 0.2 * rng.random(), "main/accuracy": 1 - 0.9 * fall - 0.05 * rng.random(),
               "elapsed_time": 0.05 * i}
        if (i + 1) % per_epoch == 0:
            row["validation/main/loss"] = 2 * fall + 0.15
            row["validation/main/accuracy"] = 1 - 0.9 * fall - 0.08
        log.append(row)
    return log


def seconds(call) -> float:
    gc.collect()  # the garbage of the previous chart is not this one's cost
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


class Redraw:
    """The live chart of one run: 100 rows more before each chart, columns kept."""

    def __init__(self, log: list, repeat: int):
        self.extra = make_log(len(log) + 100 * repeat, seed=1)[len(log):]
        self.run = SimpleNamespace(status="Training", log=list(log), label="bench")
        self.columns = Columns()
        chart_png(self.run, columns=self.columns)

    def __call__(self) -> None:
        self.run.log.extend(self.extra[:100])
        del self.extra[:100]
        chart_png(self.run, columns=self.columns)


def chart_table(repeat: int) -> None:
    logs = {rows: make_log(rows) for rows in SIZES}
    redraws = {rows: Redraw(logs[rows], repeat) for rows in SIZES}
    times = {rows: ([], []) for rows in SIZES}
    # Sizes interleaved, so that a busy moment of the machine weighs on all alike.
    for _ in range(repeat):
        for rows in SIZES:
            run = SimpleNamespace(status="Training", log=logs[rows], label="bench")
            times[rows][0].append(seconds(lambda: chart_png(run)))
            times[rows][1].append(seconds(redraws[rows]))
    print(f"one chart ({WIDTH_PX} px wide, 2 panels), median of {repeat}\n")
    print(f"{'rows':>8}  {'cold':>9} {'ratio':>6}   {'redraw':>9} {'ratio':>6}")
    base = None
    for rows in SIZES:
        figures = [statistics.median(t) for t in times[rows]]
        base = base or figures
        print(f"{rows:>8,}  {figures[0] * 1e3:7.1f} ms {figures[0] / base[0]:5.2f}x"
              f"   {figures[1] * 1e3:7.1f} ms {figures[1] / base[1]:5.2f}x")


def training(seconds: float, plot) -> tuple[list[float], float, float]:
    """Refresh times, charts drawn per second and the drawing thread's CPU share, for ``seconds``."""
    import widget as widget_bench  # bench/widget.py: its run, frames and comm
    from slacknb.views.widget import ReportWidget

    run = widget_bench.Run(2000)
    widget = ReportWidget(context=widget_bench.CONTEXT, plot=plot)
    widget.update(run.frame())
    a = np.random.default_rng(0).random((300, 300))
    refreshes = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a  # the training step itself
        frame = run.step(new_row=True)
        begin = time.perf_counter()
        widget.update(frame)
        refreshes.append(time.perf_counter() - begin)
    wall = time.perf_counter() - start
    widget.drawer.close()
    return refreshes, widget.drawer.drawn / wall, widget.drawer.busy / wall


def training_table(seconds: float, rounds: int) -> None:
    import comm

    import widget as widget_bench

    comm.create_comm = widget_bench.SerialisingComm
    cases = (("charts off", []), ("charts on", None))
    results = {label: ([], [], []) for label, _ in cases}
    # Rounds interleave the cases, so that a busy moment of the machine
    # weighs on both alike.
    for _ in range(rounds):
        for label, plot in cases:
            refreshes, rate, share = training(seconds, plot)
            results[label][0].extend(refreshes)
            results[label][1].append(rate)
            results[label][2].append(share)
    print(f"\ntraining thread: a step, then a widget refresh (2,000-row log); "
          f"{rounds} rounds of {seconds:g} s per case\n")
    print(f"{'':<12}{'refresh median':>15} {'p99':>9}  {'charts/s':>8}  {'drawing CPU share':>17}")
    base = None
    for label, (refreshes, rates, shares) in results.items():
        ordered = sorted(refreshes)
        p99 = ordered[int(len(ordered) * 0.99)]
        median = statistics.median(refreshes)
        base = base or median
        print(f"{label:<12}{median * 1e6:12.1f} us {p99 * 1e6:6.0f} us  {statistics.median(rates):8.2f}"
              f"  {statistics.median(shares) * 100:16.1f}%   refresh {median / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chart_png(SimpleNamespace(status="Training", log=make_log(100), label="warm-up"))  # fonts, imports
    chart_table(args.repeat)
    training_table(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
