"""Cost of one chart as the log grows: 1k, 10k and 100k rows, ratios against 1k.

Usage: python bench/chart.py [--repeat 7]

- cold: the first chart of a run (every row read, as the end-of-run chart in
  Slack does);
- redraw: the live widget's next chart, 100 rows later, with the columns
  already read kept (``slacknb.core.chart.Columns``).
Rows look like Chainer's LogReport with a log trigger per iteration: losses,
accuracies, validation entries at each epoch's end. Medians of --repeat runs;
the ratio is against 1,000 rows measured in the same run.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from types import SimpleNamespace

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
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


if __name__ == "__main__":
    main()
