"""ReportRun: the run layer stamps every state it sends with the wall-clock time."""

from __future__ import annotations

import re

from slacknb.core.context import RunContext
from slacknb.core.outcome import Ending
from slacknb.core.render import CUT_MARKER, Renderer, utf8_len
from slacknb.core.slack_text import slack_date
from slacknb.core.state import Status
from slacknb.run import ReportRun
from slacknb.slack.mirror import SlackMirror

from support.clock import FakeClock
from support.mirror import States, mirror_for

CONTEXT = RunContext("gpu-host", "/home/me/exp", "train.py", "", "")
START = 1796102577.0


def test_every_version_of_the_message_says_when_it_was_updated(server):
    clock = FakeClock(0.0, wall=START)
    mirror = SlackMirror(server.token, server.channel_id, base_url=server.url,
                         min_interval=0, flush_timeout=10, request_timeout=3)
    run = ReportRun(renderer=Renderer(context=CONTEXT), mirror=mirror, clock=clock)
    log = []
    run.start(log=log, entries=["epoch", "main/loss"])
    assert mirror.wait_posted(10)  # the first version is in Slack before the rest is sent
    for epoch in range(1, 4):
        clock.advance(60)
        log.append({"epoch": epoch, "main/loss": 1.0 / epoch})
        run.record(elapsed=epoch * 60.0, log_grew=True)
    clock.advance(3600)  # the end comes an hour after the last row
    assert run.finish(Ending(Status.COMPLETED))

    [message] = server.messages(server.channel_id)
    assert len(message.history) >= 2
    for version in message.history:
        assert re.search(r"\(updated <!date\^\d+\^\{ago\}\|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC>\)", version), version
    assert slack_date(START + 3 * 60 + 3600) in message.text
    assert run.state.updated_at == START + 3 * 60 + 3600


def test_the_state_has_a_time_before_the_first_push():
    run = ReportRun(renderer=Renderer(context=CONTEXT), mirror=None, clock=FakeClock(0.0, wall=START))
    assert run.state.updated_at == START


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
    run.record(elapsed=5.0, log_grew=True)  # the first row: status Training, a fresh render
    assert run.finish(Ending(Status.COMPLETED))
    [message] = server.messages()
    # Rendered within the budget by the normalizer, not cut by the mirror.
    assert utf8_len(message.text) <= learned and CUT_MARKER not in message.text
    assert message.text.count("\n") > 10 and "Completed" in message.text


def test_the_runs_secrets_never_reach_slack_or_the_views(server, monkeypatch):
    from slacknb.options import check

    monkeypatch.setenv("SLACK_APP_TOKEN", "app-token-not-shaped-like-one")
    options = check(access_token=server.token, channel_id=server.channel_id, base_url=server.url, flush_timeout=10,
                    hide=[r"hunter\d"])

    class Recorder:
        frames: list = []

        def refresh(self, frame):
            self.frames.append(frame)

    run = ReportRun.from_options(options, views=[Recorder()], label="secrets")
    log = [{"epoch": 1, "note": f"logged {server.token}"}, {"epoch": 2, "note": "app-token-not-shaped-like-one"},
           {"epoch": 3, "note": "pw hunter2"}]
    run.start(log=log, entries=["epoch", "note"], label="secrets")
    run.record(elapsed=1.0, log_grew=True)
    assert run.finish(Ending(Status.COMPLETED))
    [message] = server.messages(server.channel_id)
    for text in (*message.history, *(frame.preview for frame in Recorder.frames)):
        assert server.token not in text and "app-token-not" not in text and "hunter2" not in text
    assert message.text.count("[hidden]") == 3
    assert all(frame.scrub is run.renderer.scrub for frame in Recorder.frames)
