"""Pressing a run's Stop button from inside its own training (a Chainer extension), the
way a person watching the run in Slack would: through the local server's Socket Mode."""

from __future__ import annotations

from chainer import training
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from slacknb import SlackReport
from slacknb.slack.blocks import report_blocks


def report_of(trainer) -> SlackReport:
    [report] = [e.extension for e in trainer._extensions.values() if isinstance(e.extension, SlackReport)]
    return report


class ClickAt(training.Extension):
    """At iteration ``at``, ``user`` presses the Stop button of a message carrying
    ``stream_id`` (default: this run's), and the extension waits until the click was
    acknowledged and handled: the stop trigger sees it at the end of this iteration."""

    trigger = (1, "iteration")

    def __init__(self, server, at, *, user="U0ALICE", stream_id=None, report=None):
        self.server, self.at, self.user, self.stream_id, self.report = server, at, user, stream_id, report

    def __call__(self, trainer):
        if trainer.updater.iteration != self.at:
            return
        listener = (self.report or report_of(trainer))._run.listener
        assert listener.wait_started(10)
        assert self.server.wait_for(lambda s: s.socket_connections >= 1, timeout=10)
        # The report shares the channel's posting budget: wait out a 429 like a person would.
        web = WebClient(token=self.server.token, base_url=self.server.url,
                        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)])
        stream_id = self.stream_id or listener.stream_id
        ts = web.chat_postMessage(channel=self.server.channel_id, text="stop me",
                                  blocks=report_blocks("stop me", stream_id))["ts"]
        seen = len(listener.answers)
        envelope = self.server.press(self.server.channel_id, ts, user=self.user)
        assert self.server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)
        assert listener.wait_answered(seen + 1, timeout=10)


class Finalized(training.Extension):
    """Records the iteration at which the trainer's finalize reached it."""

    trigger = (1, "iteration")

    def __init__(self):
        self.iteration = None

    def __call__(self, trainer):
        self.trainer = trainer

    def finalize(self):
        self.iteration = self.trainer.updater.iteration
