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

The Stop button's cost on the training thread is measured in a real kernel (a
separate process started with jupyter_client), against one iteration of a small
Chainer training in the same kernel:
- stop check, no poll due: what the stop trigger costs on most iterations;
- poll, inbox empty: one look at the kernel's inbox (at most every 0.2 s);
- poll, N clicks waiting: handling pending widget messages, per message.
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

KERNEL_BENCH = """
import time, statistics, json
import chainer, numpy as np
import ipywidgets as w
from slacknb.run import ReportRun
from slacknb.views.kernel_poll import kernel_poller
from slacknb.views.notebook import NotebookView
from slacknb.slack.mirror import SlackMirror
from slacknb.core.render import Renderer
from support.training import make_trainer

def per_call(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n

trainer = make_trainer("/tmp/slacknb-bench", epochs=1000)
updater = trainer.updater
per_call(updater.update, 50)
iteration = per_call(updater.update, 300)
view = NotebookView(display=lambda *a, **k: None)
run = ReportRun(renderer=Renderer(), mirror=SlackMirror(local=True), views=[view])
run.stoppable = True
run.start()
check = per_call(run.should_stop, 100000)  # the clock says no poll is due nearly every time
poller = kernel_poller()
empty = per_call(poller.poll, 20000)
button = w.Button()
print(json.dumps({"iteration": iteration, "check": check, "empty": empty, "model_id": button.model_id}))
"""


def kernel_bench(clicks: int) -> None:
    import os

    from jupyter_client import KernelManager

    tests = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
    manager = KernelManager(kernel_name="python3")
    # Chainer 7.8.1 imports beside a newer setuptools only with this (README: install).
    manager.start_kernel(env={"SETUPTOOLS_USE_DISTUTILS": "stdlib", **os.environ, "PYTHONPATH": tests})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        measured = json.loads(_run(client, KERNEL_BENCH))
        waiting = client.execute("time.sleep(1.5)\nt = time.perf_counter(); n = poller.poll()\n"
                                 "print(json.dumps({'n': n, 'seconds': time.perf_counter() - t}))")
        for _ in range(clicks):
            content = {"comm_id": measured["model_id"], "data": {"method": "custom", "content": {"event": "click"}}}
            client.shell_channel.send(client.session.msg("comm_msg", content))
        handled = json.loads(_output(client, waiting))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    iteration = measured["iteration"]
    print(f"\nStop button, on the training thread (real kernel; one Chainer iteration of a small MLP "
          f"= {iteration * 1e6:.0f} us):")
    print(f"{'stop check, no poll due':<34} {measured['check'] * 1e6:8.2f} us   "
          f"{measured['check'] / iteration:.4f} x an iteration")
    print(f"{'poll, inbox empty':<34} {measured['empty'] * 1e6:8.2f} us   "
          f"{measured['empty'] / iteration:.4f} x an iteration (at most every 0.2 s)")
    per = handled["seconds"] / max(1, handled["n"])
    name = f"poll, {handled['n']} clicks waiting"
    print(f"{name:<34} {per * 1e6:8.2f} us per click handled")


def _run(client, code: str) -> str:
    return _output(client, client.execute(code))


def _output(client, msg_id: str) -> str:
    out = []
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            raise RuntimeError("\n".join(message["content"]["traceback"]))
        elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return "".join(out).strip().splitlines()[-1]


if __name__ == "__main__":
    main()
    kernel_bench(clicks=50)
