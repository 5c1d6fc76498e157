"""The Stop button in real Chainer trainings: a click over Socket Mode (local Slack
server, slack_sdk's own SocketModeClient) ends the run at an iteration boundary."""

from __future__ import annotations

import io

import pytest
from slacknb import SlackReport

from support.stop import ClickAt, Finalized
from support.training import ENTRIES, make_trainer


@pytest.fixture
def app_env(server, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    return server


def report(server, **kwargs):
    kwargs.setdefault("min_interval", 0)
    kwargs.setdefault("flush_timeout", 10)  # the test reads Slack right after the run
    kwargs.setdefault("out", io.StringIO())
    kwargs.setdefault("finish_mentions", "@alice @bob")
    return SlackReport(server.token, server.channel_id, ENTRIES, base_url=server.url, stop_button=True, **kwargs)


def test_allowed_click_stops_after_the_iteration_and_finalize_runs(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=50)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))
    click = ClickAt(server, 25, report=r)
    trainer.extend(click)
    done = Finalized()
    trainer.extend(done)
    trainer.run()

    # The iteration the click came in finished, and finalize ran after it.
    assert click.pressed_at is not None and done.iteration == click.pressed_at == trainer.updater.iteration
    assert trainer.updater.iteration < 500 and r.state.status == "Stopped"
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Stopped by <@U0ALICE> - ")
    # While it trained the message read as the report with the button under it; the
    # final edit took the button away.
    with_button = [b for b in message.blocks_history if b]
    assert with_button and with_button[-1][-1]["elements"][0]["value"] == r._run.mirror.stop_listener.stream_id
    assert all(b[0]["text"]["text"] == t for b, t in zip(message.blocks_history, message.history) if b)
    assert message.blocks is None and message.blocks_history[-1] is None
    [reply] = [m for m in message.replies if not m.files]  # the chart goes to the thread too
    assert "*Stopped*" in reply.text and "<@U0ALICE>" in reply.text and "<@U0BOB>" in reply.text
    assert server.ephemerals() == []
    assert server.wait_for(lambda s: s.socket_connections == 0, timeout=10)


def test_click_by_someone_not_allowed_is_refused_and_the_run_completes(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=50)
    r = report(server, finish_mentions="@alice", stop_allowed=["bob@example.com", "U0ALICE"])
    trainer.extend(r, trigger=(1, "epoch"))
    click = ClickAt(server, 5, user="U1000001", report=r)
    server.workspace.channels[server.channel_id].members.add("U1000001")
    trainer.extend(click, trigger=(1, "iteration"))
    trainer.run()

    assert click.pressed_at is not None
    assert r.state.status == "Completed" and trainer.updater.iteration == 500
    [refusal] = server.ephemerals(server.channel_id)
    assert refusal.user == "U1000001"
    assert refusal.text == "Only <@U0BOB> and <@U0ALICE> can stop this run."


def test_click_with_another_runs_stream_id_is_ignored(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=3)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.extend(ClickAt(server, 5, stream_id="0123456789abcdef", report=r))
    trainer.run()
    assert r.state.status == "Completed" and trainer.updater.iteration == 30
    assert server.ephemerals() == []
    assert r._run.mirror.stop_listener.answers == [("ignore", "U0ALICE")]


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


def test_connection_dropped_mid_run_reconnects_and_a_later_click_stops(app_env, tmp_path):
    server = app_env
    trainer = make_trainer(tmp_path, epochs=100)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))

    class DropAt(ClickAt):
        def __call__(self, tr):
            if tr.updater.iteration == self.at:
                assert r._run.mirror.stop_listener.wait_started(10) and server.wait_for(lambda s: s.socket_connections == 1)
                assert server.drop_sockets() == 1
                # slack_sdk notices at its next connection check (ping_interval, 5 s) and reconnects.
                assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1,
                                       timeout=30)

    trainer.extend(DropAt(server, 3, report=r))
    click = ClickAt(server, 7, report=r)
    trainer.extend(click)
    trainer.run()
    assert r.state.status == "Stopped" and click.pressed_at == trainer.updater.iteration
    assert server.call_counts()["apps.connections.open"] == 2
