"""The Stop button in real Chainer trainings: a click over Socket Mode (local Slack
server, slack_sdk's own SocketModeClient) ends the run at an iteration boundary."""

from __future__ import annotations

import io
import warnings

import pytest
from chainer import training
from slack_sdk import WebClient

from slacknb import SlackReport
from slacknb.slack.blocks import report_blocks

from support.training import ENTRIES, make_trainer


@pytest.fixture
def app_env(server, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    return server


def report(server, **kwargs):
    kwargs.setdefault("min_interval", 0)
    kwargs.setdefault("out", io.StringIO())
    kwargs.setdefault("finish_mentions", "@alice @bob")
    return SlackReport(server.token, server.channel_id, ENTRIES, base_url=server.url, stop_button=True, **kwargs)


def button_message(server, listener) -> str:
    """A message carrying this run's Stop button (as the report message does), its ts."""
    web = WebClient(token=server.token, base_url=server.url)
    return web.chat_postMessage(channel=server.channel_id, text="stop me",
                                blocks=report_blocks("stop me", listener.stream_id))["ts"]


class ClickAt(training.Extension):
    """An extension that, at iteration ``at``, presses Stop as ``user`` and waits until
    the click was handled (the listener acknowledged and decided)."""

    def __init__(self, server, report, at, user="U0ALICE", stream_id=None):
        self.server, self.report, self.at, self.user, self.stream_id = server, report, at, user, stream_id
        self.handled = None

    def __call__(self, trainer):
        if trainer.updater.iteration != self.at:
            return
        listener = self.report._run.listener
        assert listener.wait_started(10) and self.server.wait_for(lambda s: s.socket_connections == 1)
        web = WebClient(token=self.server.token, base_url=self.server.url)
        ts = web.chat_postMessage(channel=self.server.channel_id, text="stop me", blocks=report_blocks(
            "stop me", self.stream_id or listener.stream_id))["ts"]
        envelope = self.server.press(self.server.channel_id, ts, user=self.user)
        assert self.server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)
        self.handled = listener.wait_answered(1, timeout=10)


class Finalized(training.Extension):
    def __init__(self):
        self.iteration = None

    def __call__(self, trainer):
        self.trainer = trainer

    def finalize(self):
        self.iteration = self.trainer.updater.iteration


def test_allowed_click_stops_after_the_iteration_and_finalize_runs(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=50)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))
    click = ClickAt(server, r, at=25)
    trainer.extend(click, trigger=(1, "iteration"))
    done = Finalized()
    trainer.extend(done, trigger=(1, "iteration"))
    trainer.run()

    assert done.iteration == 25 and trainer.updater.iteration == 25
    assert r.state.status == "Stopped"
    [report_message, _button] = server.messages(server.channel_id)
    assert report_message.text.startswith("Stopped by <@U0ALICE> - ")
    assert report_message.blocks is None
    replies = [m for m in report_message.replies]
    assert len(replies) == 1 and "*Stopped*" in replies[0].text and "<@U0ALICE>" in replies[0].text
    assert server.ephemerals() == []
    assert server.wait_for(lambda s: s.socket_connections == 0, timeout=10)


def test_click_by_someone_not_allowed_is_refused_and_the_run_completes(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=3)
    r = report(server, finish_mentions="@alice", stop_allowed=["bob@example.com", "U0ALICE"])
    trainer.extend(r, trigger=(1, "epoch"))
    click = ClickAt(server, r, at=5, user="U1000001")
    server.workspace.channels[server.channel_id].members.add("U1000001")
    trainer.extend(click, trigger=(1, "iteration"))
    trainer.run()

    assert r.state.status == "Completed" and trainer.updater.iteration == 30
    [refusal] = server.ephemerals(server.channel_id)
    assert refusal.user == "U1000001"
    assert refusal.text == "Only <@U0BOB> and <@U0ALICE> can stop this run."


def test_click_with_another_runs_stream_id_is_ignored(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=3)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.extend(ClickAt(server, r, at=5, stream_id="0123456789abcdef"), trigger=(1, "iteration"))
    trainer.run()
    assert r.state.status == "Completed" and trainer.updater.iteration == 30
    assert server.ephemerals() == []
    assert r._run.listener.answers == [("ignore", "U0ALICE")]


def test_no_app_token_warns_once_and_the_run_completes(server, tmp_path, monkeypatch):
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.warns(UserWarning, match="SLACK_APP_TOKEN is not set") as caught:
        r = report(server)
    assert len([w for w in caught if "SLACK_APP_TOKEN" in str(w.message)]) == 1
    trainer = make_trainer(tmp_path, epochs=2)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    assert r.state.status == "Completed"
    assert server.call_counts()["apps.connections.open"] == 0
    assert all(m.blocks is None for m in server.messages())


def test_stop_button_without_anyone_allowed_is_refused_at_construction(server):
    with pytest.raises(ValueError, match="nobody may press it"):
        SlackReport(server.token, server.channel_id, base_url=server.url, stop_button=True)
    with pytest.raises(ValueError, match="takes people, not @here"):
        SlackReport(server.token, server.channel_id, base_url=server.url, stop_button=True, stop_allowed="@here")
