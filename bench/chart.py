"""Cost of one chart as the log grows (1k, 10k, 100k rows), and what charts cost training.

Usage: python bench/chart.py [--repeat 7] [--seconds 4] [--rounds 3]

One chart:

- cold: the first chart of a run (every row read, as the end-of-run chart in
  Slack does);
- redraw: the live widget's next chart, 100 rows later, with the columns
  already read kept (``slacknb.core.chart.Columns``).
Rows look like Chainer's LogReport with a log trigger per iteration: losses,
accuracies, validation entries at each epoch's end. Medians of --repeat runs;
the ratio is against 1,000 rows measured in the same run.

The training thread with charts off and on (same run, --rounds of --seconds
each, the cases interleaved): a
loop of training steps (a 300x300 matrix product and a log row) with a widget
refresh after each step, the refresh as bench/widget.py measures it (a
2,000-row log, comm messages serialised like the kernel's). With charts on
the widget's drawing thread draws the newest state every 2 s (the default),
or as often as its pacing by its own cost allows (interval 0); the figures are the refresh on the
training thread (what a trigger costs) and the training steps per second
(what the drawing thread's share of the GIL costs).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from types import SimpleNamespace

import numpy as np

from slacknb.core.chart import Columns, chart_png

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


def median_seconds(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold(log: list, repeat: int) -> float:
    run = SimpleNamespace(status="Training", log=log, label="bench")
    return median_seconds(lambda: chart_png(run), repeat)


def redraw(log: list, repeat: int) -> float:
    extra = make_log(len(log) + 100 * repeat, seed=1)[len(log):]
    run = SimpleNamespace(status="Training", log=list(log), label="bench")
    columns = Columns()
    chart_png(run, columns=columns)

    def next_chart():
        run.log.extend(extra[:100])
        del extra[:100]
        chart_png(run, columns=columns)
    return median_seconds(next_chart, repeat)


def training(seconds: float, plot, interval: float | None) -> tuple[list[float], float, int]:
    """Refresh times, training steps per second and charts drawn, for ``seconds`` of training."""
    import widget as widget_bench  # bench/widget.py: its run, frames and comm
    from slacknb.views.widget import ReportWidget

    run = widget_bench.Run(2000)
    widget = ReportWidget(context=widget_bench.CONTEXT, plot=plot)
    if interval is not None:
        widget.drawer.interval = interval
    widget.update(run.frame())
    a = np.random.default_rng(0).random((300, 300))
    refreshes, steps = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a  # the training step itself
        frame = run.step(new_row=True)
        steps += 1
        begin = time.perf_counter()
        widget.update(frame)
        refreshes.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - start - sum(refreshes)
    widget.drawer.close()
    return refreshes, steps / elapsed, widget.drawer.drawn


def training_table(seconds: float, rounds: int) -> None:
    import comm

    import widget as widget_bench

    comm.create_comm = widget_bench.SerialisingComm
    cases = (("charts off", [], None), ("charts on (every 2 s)", None, None), ("charts on, interval 0", None, 0.0))
    results = {label: ([], [], []) for label, _, _ in cases}
    # Rounds interleave the cases, so that a busy moment of the machine
    # weighs on all of them alike.
    for _ in range(rounds):
        for label, plot, interval in cases:
            refreshes, rate, drawn = training(seconds, plot, interval)
            results[label][0].extend(refreshes)
            results[label][1].append(rate)
            results[label][2].append(drawn)
    print(f"\ntraining thread: a step, then a widget refresh (2,000-row log); "
          f"{rounds} rounds of {seconds:g} s per case\n")
    print(f"{'':<24}{'refresh median':>15} {'p99':>9} {'steps/s':>9} {'ratio':>6} {'charts/s':>9}")
    base = statistics.median(results["charts off"][1])
    for label, (refreshes, rates, drawn) in results.items():
        ordered = sorted(refreshes)
        p99 = ordered[int(len(ordered) * 0.99)]
        rate = statistics.median(rates)
        print(f"{label:<24}{statistics.median(refreshes) * 1e6:12.1f} us {p99 * 1e6:6.0f} us"
              f" {rate:9.0f} {rate / base:5.2f}x {sum(drawn) / (seconds * rounds):9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chart_png(SimpleNamespace(status="Training", log=make_log(100), label="warm-up"))  # fonts, imports
    logs = {rows: make_log(rows) for rows in SIZES}
    print(f"one chart (900 px wide, 2 panels), median of {args.repeat}\n")
    print(f"{'rows':>8}  {'cold':>9} {'ratio':>6}   {'redraw':>9} {'ratio':>6}")
    base = None
    for rows in SIZES:
        figures = (cold(logs[rows], args.repeat), redraw(logs[rows], args.repeat))
        base = base or figures
        print(f"{rows:>8,}  {figures[0] * 1e3:7.1f} ms {figures[0] / base[0]:5.2f}x"
              f"   {figures[1] * 1e3:7.1f} ms {figures[1] / base[1]:5.2f}x")
    training_table(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
