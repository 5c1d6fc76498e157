"""ReportRun, the one place where the state, the renderer, the views and Slack meet."""

from __future__ import annotations

from slacknb.core.context import RunContext
from slacknb.core.render import CUT_MARKER, Renderer, utf8_len
from slacknb.core.state import Status
from slacknb.run import ReportRun

from support.mirror import States, mirror_for

CONTEXT = RunContext("gpu-host", "/home/me/exp", "train.py", "--lr 0.1", "")


def test_the_run_renders_within_the_budget_slack_taught(server):
    log = [{"epoch": i, "main/loss": 1.0 / (i + 1), "elapsed_time": float(i)} for i in range(400)]
    states = States()
    mirror = mirror_for(server, states)
    run = ReportRun(renderer=Renderer(context=CONTEXT, normalizer="thin_out"), mirror=mirror, views=[],
                    refresh_interval=0)
    server.inject("chat.postMessage", error="msg_too_long")
    run.start(log=log, entries=["epoch", "main/loss", "elapsed_time"], label="budget")
    learned = states.wait_for(lambda s: s.status == "synced" and s.budget is not None).budget
    assert learned < 4000
    run.tick(elapsed=5.0, log_grew=True)  # the first row: status Training, a fresh render
    assert run.finish(Status.COMPLETED)
    [message] = server.messages()
    # Rendered within the budget by the normalizer, not cut by the mirror.
    assert utf8_len(message.text) <= learned and CUT_MARKER not in message.text
    assert message.text.count("\n") > 10 and "Completed" in message.text
