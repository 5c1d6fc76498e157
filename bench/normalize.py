"""Render cost of the length normalizer against chainer-slack-report's loop.

Usage: python bench/normalize.py [--rows 1000 10000 100000] [--repeat 20]

For each log size it times, in the same run:
- seed: a faithful re-implementation of chainer-slack-report's thin_out, which
  re-renders the whole message for interval i = 1, 2, 3, ... until it fits
  (rows are pre-formatted, so only the loop itself is timed);
- slacknb cold: a new Renderer on the whole log (every candidate row formatted);
- slacknb steady: one row appended, then a render (what happens during training).
It prints per-render times, the ratio seed / steady, and the fill ratio
(bytes used / budget) of both.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from slacknb.core.context import RunContext
from slacknb.core.render import Renderer, utf8_len
from slacknb.core.state import ReportState
from slacknb.core.table import format_header, format_row

ENTRIES = ["epoch", "iteration", "main/loss", "main/accuracy",
           "validation/main/loss", "validation/main/accuracy", "elapsed_time"]
BUDGET = 4000
CONTEXT = RunContext("gpu-node-01", "/home/me/experiments/mnist", "train.py", "--epoch 100", "")
SEED_TEMPLATE = "{status} - {elapsed} `{hostname}:{pwdshort}$ {cmd} {args}`\n{content}\n{finish_mentions}"


def observation(i: int, rng: random.Random) -> dict:
    return {"epoch": i // 100 + 1, "iteration": i + 1, "main/loss": rng.random(),
            "main/accuracy": rng.random(), "validation/main/loss": rng.random(),
            "validation/main/accuracy": rng.random(), "elapsed_time": i * 0.37}


def seed_render(header: str, lines: list[str], budget: int) -> str:
    """chainer-slack-report's thin_out: try every interval, re-rendering it all."""
    values = {"status": "Training", "elapsed": "1:02:03", "hostname": CONTEXT.hostname,
              "pwdshort": CONTEXT.pwdshort, "cmd": CONTEXT.cmd, "args": CONTEXT.args,
              "finish_mentions": ""}
    for interval in range(1, len(lines) + 1):
        content = "```" + "\n".join([header] + lines[::interval]) + "```"
        text = SEED_TEMPLATE.format_map({**values, "content": content})
        if len(text.encode("utf-8")) <= budget:
            return text
    return ""


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"budget {BUDGET} bytes; median of {args.repeat} renders each")
    print(f"{'rows':>8} {'seed ms':>10} {'cold ms':>10} {'steady ms':>10} "
          f"{'seed/steady':>12} {'fill seed':>10} {'fill ours':>10}")
    for rows in args.rows:
        log = [observation(i, rng) for i in range(rows)]
        header = format_header(ENTRIES)
        lines = [format_row(ENTRIES, o) for o in log]
        seed_repeat = max(1, args.repeat // 4) if rows >= 100000 else args.repeat
        seed_time, seed_text = timed(lambda: seed_render(header, lines, BUDGET), seed_repeat)

        def cold():
            state = ReportState(status="Training", log=log, entries=ENTRIES, elapsed=3723)
            return Renderer(context=CONTEXT, max_bytes=BUDGET).render(state)

        cold_time, _ = timed(cold, args.repeat)

        renderer = Renderer(context=CONTEXT, max_bytes=BUDGET)
        state = ReportState(status="Training", log=log, entries=ENTRIES, elapsed=3723)
        renderer.render(state)
        counter = [rows]

        def steady():
            log.append(observation(counter[0], rng))
            counter[0] += 1
            return renderer.render(state)

        steady_time, ours = timed(steady, args.repeat)
        print(f"{rows:>8} {seed_time * 1e3:>10.3f} {cold_time * 1e3:>10.3f} {steady_time * 1e3:>10.3f} "
              f"{seed_time / steady_time:>12.1f} {utf8_len(seed_text) / BUDGET:>10.3f} "
              f"{utf8_len(ours) / BUDGET:>10.3f}")


if __name__ == "__main__":
    main()
