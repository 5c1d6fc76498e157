"""Pressing a run's Stop button from inside its own training (a Chainer extension), the
way a person watching the run in Slack would: through the local server's Socket Mode."""

from __future__ import annotations

from chainer import training
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from slacknb import SlackReport
from slacknb.core.blocks import report_blocks
from slacknb.testing.socket_mode import find_button


def report_of(trainer) -> SlackReport:
    [report] = [e.extension for e in trainer._extensions.values() if isinstance(e.extension, SlackReport)]
    return report


def button_message(server, stream_id: str):
    """The newest message whose Stop button carries ``stream_id``, or None."""
    for message in reversed(server.messages(server.channel_id, include_deleted=False)):
        try:
            find_button(message, value=stream_id)
        except ValueError:
            continue
        return message
    return None


class ClickAt(training.Extension):
    """From iteration ``at`` on, once the report's own message shows its Stop button,
    ``user`` presses it, and the extension waits until the click was acknowledged and
    handled: the stop trigger sees it at the end of that iteration (``pressed_at``).

    With ``stream_id`` the press is on a separate message whose button carries that id
    (another run's button), at iteration ``at`` exactly.
    """

    trigger = (1, "iteration")

    def __init__(self, server, at, *, user="U0ALICE", stream_id=None, report=None):
        self.server, self.at, self.user, self.stream_id, self.report = server, at, user, stream_id, report
        self.pressed_at = None

    def __call__(self, trainer):
        iteration = trainer.updater.iteration
        if self.pressed_at is not None or iteration < self.at:
            return
        run = (self.report or report_of(trainer))._run
        listener = run.mirror.stop_listener
        if iteration == self.at and self.stream_id is None:
            # Connected from here on, so the report's next edit carries the button: make
            # that edit now (the run pushes at most every 0.5 s) and wait until Slack has it.
            assert listener.wait_started(10) and listener.listening
            run.push(force=True)
            assert self.server.wait_for(lambda s: button_message(s, listener.stream_id) is not None, timeout=10)
        if self.stream_id is not None:
            assert self.server.wait_for(lambda s: s.socket_connections >= 1, timeout=10)
            # The report shares the channel's posting budget: wait out a 429 like a person would.
            web = WebClient(token=self.server.token, base_url=self.server.url,
                            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)])
            ts = web.chat_postMessage(channel=self.server.channel_id, text="stop me",
                                      blocks=report_blocks("stop me", self.stream_id))["ts"]
        else:
            # The button shows once the listener is connected and a report edit carried it.
            message = button_message(self.server, listener.stream_id)
            if message is None:
                return
            ts = message.ts
        seen = len(listener.answers)
        envelope = self.server.press(self.server.channel_id, ts, user=self.user)
        assert self.server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)
        assert listener.wait_answered(seen + 1, timeout=10)
        self.pressed_at = iteration


class Finalized(training.Extension):
    """Records the iteration at which the trainer's finalize reached it."""

    trigger = (1, "iteration")

    def __init__(self):
        self.iteration = None

    def __call__(self, trainer):
        self.trainer = trainer

    def finalize(self):
        self.iteration = self.trainer.updater.iteration
