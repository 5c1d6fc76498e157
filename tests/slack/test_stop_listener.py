"""The Stop button's listener against the local Slack server with slack_sdk's own
SocketModeClient, made by a mirror as a run makes it; the pure parts (what a click means)
directly."""

from __future__ import annotations

import logging
import warnings

import pytest
from slack_sdk import WebClient

from slacknb.core.blocks import report_blocks
from slacknb.core.stop import StopRequest, StopSignal
from slacknb.slack.stop_listener import Click, read_click, verdict

from support.mirror import States, mirror_for


@pytest.fixture
def web(server):
    return WebClient(token=server.token, base_url=server.url, retry_handlers=[])


@pytest.fixture
def app_token(server, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    return server.app_token


def listening(server, signal, mentions="@alice bob@example.com", **options):
    """A run's mirror with its Stop button listening, its people looked up."""
    states = States()
    mirror = mirror_for(server, states, mentions=mentions, stop_button=True, stop=signal, **options)
    mirror.update("report")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "report" and s.mentions)
    mirror.listen()
    listener = mirror.stop_listener
    assert listener.wait_started(10)
    assert server.wait_for(lambda s: s.socket_connections == 1)
    mirror.states = states
    return mirror, listener


def press(server, web, user, stream_id, **claims):
    ts = web.chat_postMessage(channel=server.channel_id, text="report",
                              blocks=report_blocks("report", stream_id))["ts"]
    envelope = server.press(server.channel_id, ts, user=user, **claims)
    assert server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)


def test_what_a_click_means():
    payload = {"type": "block_actions", "user": {"id": "U0BOB", "team_id": "T0"}, "api_app_id": "A0",
               "team": {"id": "T0"}, "container": {"channel_id": "C0TRAINING", "message_ts": "1.000001"},
               "actions": [{"action_id": "other", "value": "x"}, {"action_id": "slacknb_stop", "value": "run-1"}]}
    click = read_click(payload)
    assert click == Click("U0BOB", "C0TRAINING", "run-1", "1.000001", "A0", "T0")
    assert read_click({"type": "view_submission"}) is None
    assert read_click({**payload, "actions": [{"action_id": "other"}]}) is None
    decide = lambda **kw: verdict(click, **{"stream_id": "run-1", "allowed": ("U0ALICE", "U0BOB"), "ended": None,  # noqa: E731
                                           "stopping": None, "app_id": "A0", "team_id": "T0", **kw})
    assert decide() == ("stop", "")
    assert decide(stream_id="run-2") == ("ignore", "")
    assert decide(app_id="A1") == decide(team_id="T1") == ("ignore", "")  # another app's, another workspace's
    assert decide(app_id=None) == decide(team_id=None) == ("ignore", "")  # not known yet: never a stop
    assert decide(allowed=("U0ALICE",)) == ("refuse", "Only <@U0ALICE> can stop this run.")
    assert decide(allowed=("U0A", "U0B", "U0C"))[1] == "Only <@U0A>, <@U0B> and <@U0C> can stop this run."
    assert decide(ended="Completed") == ("ended", "This run already ended (Completed).")
    assert decide(stopping=StopRequest("notebook"))[1] == "This run is already stopping (from the notebook)."


def test_allowed_click_requests_the_stop_and_a_second_is_told(server, web, app_token):
    signal = StopSignal()
    mirror, listener = listening(server, signal)
    assert listener.allowed == ("U0ALICE", "U0BOB") and listener.team_id == "T0LOCAL"
    press(server, web, "U0BOB", listener.stream_id)
    assert signal.wait(10) == StopRequest("slack", by="<@U0BOB>", user_id="U0BOB")
    press(server, web, "U0ALICE", listener.stream_id)
    assert listener.wait_answered(2, timeout=10)
    [told] = server.ephemerals()
    assert (told.user, told.text) == ("U0ALICE", "This run is already stopping (by <@U0BOB>).")
    listener.close(wait=True)
    assert server.wait_for(lambda s: s.socket_connections == 0)
    mirror.close()


def test_a_click_claiming_another_app_or_workspace_changes_nothing(server, web, app_token):
    signal = StopSignal()
    mirror, listener = listening(server, signal)
    press(server, web, "U0ALICE", listener.stream_id, app_id="A0STRANGER")
    press(server, web, "U0ALICE", listener.stream_id, team_id="T0STRANGER")
    assert listener.wait_answered(2, timeout=10)
    assert listener.answers == [("ignore", "U0ALICE"), ("ignore", "U0ALICE")]
    assert signal.requested is None and server.ephemerals() == []
    listener.close(wait=True)
    mirror.close()


def test_click_after_the_run_ended_is_told_so(server, web, app_token):
    signal = StopSignal()
    mirror, listener = listening(server, signal)
    signal.end("Completed")
    press(server, web, "U0ALICE", listener.stream_id)
    assert listener.wait_answered(1, timeout=10)
    assert [e.text for e in server.ephemerals()] == ["This run already ended (Completed)."]
    assert signal.requested is None
    listener.close(wait=True)
    mirror.close()


def test_dropped_connection_reconnects_and_a_later_click_works(server, web, app_token):
    signal = StopSignal()
    mirror, listener = listening(server, signal)
    assert server.drop_sockets() == 1
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=15)
    press(server, web, "U0ALICE", listener.stream_id)
    assert signal.wait(10).user_id == "U0ALICE"
    listener.close(wait=True)
    mirror.close()


def test_the_listeners_web_calls_go_through_the_runs_api(server, web, app_token):
    signal = StopSignal()
    mirror, listener = listening(server, signal, mentions="@alice")
    before = mirror.state.api_calls
    press(server, web, "U0BOB", listener.stream_id)  # refused: one ephemeral answer
    assert listener.wait_answered(1, timeout=10)
    assert server.wait_for(lambda s: len(s.ephemerals()) == 1)
    mirror.update("report 2")  # publishes the count
    mirror.states.wait_for(lambda s: s.api_calls >= before + 2)  # the edit and the answer
    listener.close(wait=True)
    mirror.close()


def test_a_bot_token_given_as_app_token_warns_and_never_shows_the_token(server, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.token)
    signal = StopSignal()
    mirror = mirror_for(server, mentions="@alice", stop_button=True, stop=signal)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mirror.listen()
        assert mirror.stop_listener.wait_started(10)
    [warning] = [str(w.message) for w in caught]
    assert "not_allowed_token_type" in warning and "xapp-" in warning and server.token not in warning
    assert server.socket_connections == 0
    mirror.close()


def test_without_an_app_token_one_warning_and_no_button(server, monkeypatch):
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.warns(UserWarning, match="SLACK_APP_TOKEN is not set"):
        mirror = mirror_for(server, mentions="@alice", stop_button=True, stop=StopSignal())
    assert mirror.stop_listener is None
    mirror.close()


def test_app_token_never_in_a_repr_or_warning(server, app_token):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mirror, listener = listening(server, StopSignal(), mentions="@alice")
        texts = [repr(listener), repr(mirror), repr(mirror.settings)] + [str(w.message) for w in caught]
        listener.close(wait=True)
    assert all(app_token not in t and server.token not in t for t in texts)
    mirror.close()


def test_app_token_stays_out_of_debug_logs(server, web, caplog, app_token):
    # A user who turns on DEBUG logging for everything still never sees the app token
    # (slack_sdk logs each request at DEBUG; apps.connections.open is called with it).
    caplog.set_level(logging.DEBUG)
    signal = StopSignal()
    mirror, listener = listening(server, signal, mentions="@alice")
    assert server.drop_sockets() == 1  # a reconnect calls apps.connections.open again
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=30)
    press(server, web, "U0ALICE", listener.stream_id)
    assert signal.wait(10) is not None
    listener.close(wait=True)
    assert "Reconnecting" in caplog.text or "new session" in caplog.text  # DEBUG/INFO records were kept
    assert app_token not in caplog.text
    mirror.close()


def test_who_may_press_is_the_runs_one_look_up_so_a_429_after_the_end_warns_nobody(server, app_token):
    server.inject("users.list", error="ratelimited", retry_after=1)
    signal = StopSignal()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mirror = mirror_for(server, mentions="@alice", stop_button=True, stop=signal, flush_timeout=0)
        mirror.update("report")
        mirror.listen()
        mirror.finish("Completed", outcome="completed", elapsed="0:00:01")
        assert mirror.wait_delivered(30)
        mirror.stop_listener.wait_started(10)
        mirror.close()
    assert not [w for w in caught if "nobody found" in str(w.message)], [str(w.message) for w in caught]
    assert server.messages()[0].replies[0].text.startswith("<@U0ALICE> ")
    assert server.call_counts()["users.list"] == 3  # one 429, then the two pages, for both uses
