"""ReportRun: the run layer stamps every state it sends with the wall-clock time."""

from __future__ import annotations

import re

from slacknb.core.context import RunContext
from slacknb.core.render import Renderer
from slacknb.core.slack_text import slack_date
from slacknb.run import ReportRun
from slacknb.slack.mirror import SlackMirror

CONTEXT = RunContext("gpu-host", "/home/me/exp", "train.py", "", "")
START = 1796102577.0


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_every_version_of_the_message_says_when_it_was_updated(server):
    wall, tick = FakeClock(START), FakeClock(0.0)
    mirror = SlackMirror(server.token, server.channel_id, base_url=server.url,
                         min_interval=0, flush_timeout=10, request_timeout=3)
    run = ReportRun(renderer=Renderer(context=CONTEXT), mirror=mirror, clock=tick, wall_clock=wall)
    log = []
    run.start(log=log, entries=["epoch", "main/loss"])
    for epoch in range(1, 4):
        wall.now += 60
        tick.now += 1
        log.append({"epoch": epoch, "main/loss": 1.0 / epoch})
        run.tick(elapsed=epoch * 60.0, log_grew=True)
    wall.now += 3600  # the end comes an hour after the last row
    assert run.finish("Completed")

    [message] = server.messages(server.channel_id)
    assert len(message.history) >= 2
    for version in message.history:
        assert re.search(r"\(updated <!date\^\d+\^\{ago\}\|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC>\)", version), version
    assert slack_date(START + 3 * 60 + 3600) in message.text
    assert run.state.updated_at == START + 3 * 60 + 3600


def test_the_state_has_a_time_before_the_first_push():
    run = ReportRun(renderer=Renderer(context=CONTEXT), mirror=None, wall_clock=lambda: START)
    assert run.state.updated_at == START
