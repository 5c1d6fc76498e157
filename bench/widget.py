"""Cost of showing a report in a notebook, per refresh, on the training thread.

Usage: python bench/widget.py [--rows 2000] [--refreshes 400]

The widgets run on a comm that serialises every message to JSON, as the
kernel would before sending it, and counts its bytes. Measured:
- refresh, new row: one log row more and one second later (the table, the
  status line and the Slack preview change), on a log of --rows rows;
- refresh, new second: one second later, no new row;
- no-op refresh: a frame that shows the same as the last one;
- text/html + text/plain: what the widget-free view (and a saved notebook) gets.
Frames are rendered beforehand: only the view's own work is timed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import comm
from comm.base_comm import BaseComm

from slacknb.views import html as report_html
from slacknb.core.context import RunContext
from slacknb.slack.mirror import MirrorState
from slacknb.core.render import Renderer
from slacknb.core.state import TRAINING, ReportState
from slacknb.run import Frame

ENTRIES = ["epoch", "iteration", "main/loss", "main/accuracy",
           "validation/main/loss", "validation/main/accuracy", "elapsed_time"]
CONTEXT = RunContext("gpu-node-01", "/home/me/experiments/mnist", "train.py", "--epoch 100", "")
SYNC = MirrorState("synced", "Slack shows the latest report",
                   permalink="https://example.slack.com/archives/C0TRAINING/p1700000000000100")


class SerialisingComm(BaseComm):
    """Serialises each message like the kernel would, and counts it."""

    messages = 0
    sent_bytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        SerialisingComm.messages += 1
        SerialisingComm.sent_bytes += len(json.dumps(data or {}))


def observation(i: int, rng: random.Random) -> dict:
    return {"epoch": i // 100 + 1, "iteration": i + 1, "main/loss": rng.random(),
            "main/accuracy": rng.random(), "validation/main/loss": rng.random(),
            "validation/main/accuracy": rng.random(), "elapsed_time": i * 0.37}


class Run:
    """A run as ReportRun keeps it: one ReportState, one shared log, one renderer."""

    def __init__(self, rows: int):
        self.rng = random.Random(0)
        log = [observation(i, self.rng) for i in range(rows)]
        self.state = ReportState(status=TRAINING, log=log, entries=ENTRIES, elapsed=3600.0,
                                 progress=0.5, eta=3600.0)
        self.renderer = Renderer(context=CONTEXT)

    def step(self, *, new_row: bool) -> Frame:
        if new_row:
            self.state.log.append(observation(len(self.state.log), self.rng))
        self.state.elapsed += 1.0
        self.state.eta -= 1.0
        return self.frame()

    def frame(self) -> Frame:
        return Frame(self.state, tuple(ENTRIES), self.renderer.render(self.state), SYNC)


def timed(prepare, call, count: int) -> list[float]:
    """Time ``call(prepare())`` ``count`` times; only ``call`` is timed."""
    times = []
    for _ in range(count):
        argument = prepare()
        start = time.perf_counter()
        call(argument)
        times.append(time.perf_counter() - start)
    return times


def summary(name: str, times: list[float], extra: str = "") -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<34} median {statistics.median(times) * 1e6:8.1f} us   p99 {p99 * 1e6:8.1f} us{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--refreshes", type=int, default=400)
    args = parser.parse_args()
    comm.create_comm = SerialisingComm
    from slacknb.views.widget import ReportWidget  # after the comm is in place

    print(f"log of {args.rows:,} rows, {args.refreshes} refreshes each\n")
    for label, new_row in (("refresh, new row", True), ("refresh, new second", False)):
        run = Run(args.rows)
        widget = ReportWidget(context=CONTEXT)
        widget.update(run.frame())
        SerialisingComm.messages = SerialisingComm.sent_bytes = 0
        times = timed(lambda: run.step(new_row=new_row), widget.update, args.refreshes)
        per = args.refreshes
        summary(label, times, f"   {SerialisingComm.messages / per:.1f} msgs, "
                              f"{SerialisingComm.sent_bytes / per / 1024:.1f} KiB per refresh")

    run = Run(args.rows)
    widget = ReportWidget(context=CONTEXT)
    widget.update(run.frame())
    SerialisingComm.messages = 0
    times = timed(run.frame, widget.update, args.refreshes)
    summary("no-op refresh", times, f"   {SerialisingComm.messages} msgs in all")

    frame = run.frame()

    def both(frame):
        report_html.frame_html(frame, context=CONTEXT)
        report_html.frame_text(frame, context=CONTEXT)

    times = timed(lambda: frame, both, max(1, args.refreshes // 4))
    size = len(report_html.frame_html(frame, context=CONTEXT)) + len(report_html.frame_text(frame, context=CONTEXT))
    summary("text/html + text/plain (fallback)", times, f"   {size / 1024:.1f} KiB")

if __name__ == "__main__":
    main()
