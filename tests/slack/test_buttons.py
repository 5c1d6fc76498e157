"""StopListener against the local Slack server with slack_sdk's own SocketModeClient;
the pure parts (who may stop, what a click means) directly."""

from __future__ import annotations

import logging
import warnings

import pytest
from slack_sdk import WebClient

from slacknb.core.stop import StopRequest, StopSignal
from slacknb.slack.blocks import report_blocks
from slacknb.slack.buttons import (Click, StopListener, allowed_people, app_token_from_env, read_click,
                                   stop_listener, verdict)
from slacknb.slack.mentions import parse_mentions


@pytest.fixture
def web(server):
    return WebClient(token=server.token, base_url=server.url, retry_handlers=[])


def listening(server, web, signal, allowed="@alice bob@example.com", **kwargs):
    listener = StopListener(app_token=server.app_token, client=web, stream_id="run-1",
                            allowed=parse_mentions(allowed), signal=signal, ping_interval=0.5, **kwargs)
    listener.start()
    assert listener.wait_started(10)
    assert server.wait_for(lambda s: s.socket_connections == 1)
    return listener


def press(server, web, user, stream_id="run-1"):
    ts = web.chat_postMessage(channel=server.channel_id, text="report",
                              blocks=report_blocks("report", stream_id))["ts"]
    envelope = server.press(server.channel_id, ts, user=user)
    assert server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)


def test_allowed_people_come_from_stop_allowed_else_finish_mentions():
    assert [m.raw for m in allowed_people(None, "@here @alice S0GROUP bob@example.com")] == [
        "@alice", "bob@example.com"]
    assert [m.raw for m in allowed_people(["U0BOB"], "@alice")] == ["U0BOB"]
    with pytest.raises(ValueError, match="nobody may press it"):
        allowed_people(None, "@here")
    with pytest.raises(ValueError, match="takes people, not <!subteam"):
        allowed_people("<!subteam^S0123>", "@alice")
    with pytest.raises(TypeError):
        allowed_people(3, None)


def test_app_token_only_from_the_environment():
    assert app_token_from_env({"SLACK_APP_TOKEN": " xapp-1-x "}) == "xapp-1-x"
    assert app_token_from_env({"SLACK_APP_TOKEN": ""}) is None


def test_what_a_click_means():
    payload = {"type": "block_actions", "user": {"id": "U0BOB"},
               "container": {"channel_id": "C0TRAINING", "message_ts": "1.000001"},
               "actions": [{"action_id": "other", "value": "x"}, {"action_id": "slacknb_stop", "value": "run-1"}]}
    click = read_click(payload)
    assert click == Click("U0BOB", "C0TRAINING", "run-1", "1.000001")
    assert read_click({"type": "view_submission"}) is None
    assert read_click({**payload, "actions": [{"action_id": "other"}]}) is None
    decide = lambda **kw: verdict(click, **{"stream_id": "run-1", "allowed": ("U0ALICE", "U0BOB"),
                                           "ended": None, "stopping": None, **kw})
    assert decide() == ("stop", "")
    assert decide(stream_id="run-2") == ("ignore", "")
    assert decide(allowed=("U0ALICE",)) == ("refuse", "Only <@U0ALICE> can stop this run.")
    assert decide(allowed=("U0A", "U0B", "U0C"))[1] == "Only <@U0A>, <@U0B> and <@U0C> can stop this run."
    assert decide(ended="Completed") == ("ended", "This run already ended (Completed).")
    assert decide(stopping=StopRequest("notebook"))[1] == "This run is already stopping (from the notebook)."


def test_allowed_click_requests_the_stop_and_a_second_is_told(server, web):
    signal = StopSignal()
    listener = listening(server, web, signal)
    assert listener.allowed == ("U0ALICE", "U0BOB")
    press(server, web, "U0BOB")
    assert signal.wait(10) == StopRequest("slack", by="<@U0BOB>", user_id="U0BOB")
    press(server, web, "U0ALICE")
    assert listener.wait_answered(2, timeout=10)
    [told] = server.ephemerals()
    assert (told.user, told.text) == ("U0ALICE", "This run is already stopping (by <@U0BOB>).")
    listener.close(wait=True)
    assert server.wait_for(lambda s: s.socket_connections == 0)


def test_click_after_the_run_ended_is_told_so(server, web):
    signal = StopSignal()
    listener = listening(server, web, signal)
    signal.end("Completed")
    press(server, web, "U0ALICE")
    assert listener.wait_answered(1, timeout=10)
    assert [e.text for e in server.ephemerals()] == ["This run already ended (Completed)."]
    assert signal.requested is None
    listener.close(wait=True)


def test_dropped_connection_reconnects_and_a_later_click_works(server, web):
    signal = StopSignal()
    listener = listening(server, web, signal)
    assert server.drop_sockets() == 1
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=15)
    press(server, web, "U0ALICE")
    assert signal.wait(10).user_id == "U0ALICE"
    listener.close(wait=True)


def test_unknown_people_are_named_in_one_warning(server, web):
    signal = StopSignal()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listener = listening(server, web, signal, allowed="@alice @nobody-here")
    assert listener.allowed == ("U0ALICE",)
    assert [str(w.message) for w in caught if "nobody-here" in str(w.message)] == [
        "slacknb: Stop button: nobody found for @nobody-here; they cannot stop the run"]
    listener.close(wait=True)


def test_a_bot_token_given_as_app_token_warns_and_never_shows_the_token(server, web):
    signal = StopSignal()
    listener = StopListener(app_token=server.token, client=web, stream_id="run-1",
                            allowed=parse_mentions("@alice"), signal=signal)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listener.start()
        assert listener.wait_started(10)
    [warning] = [str(w.message) for w in caught]
    assert "not_allowed_token_type" in warning and "xapp-" in warning and server.token not in warning
    assert server.socket_connections == 0


def test_app_token_never_in_a_repr_or_warning(server, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listener = stop_listener(token=server.token, base_url=server.url, allowed=parse_mentions("@alice"),
                                 signal=StopSignal())
        listener.start()
        assert listener.wait_started(10)
        texts = [repr(listener), str(vars(listener).get("allowed"))] + [str(w.message) for w in caught]
        listener.close(wait=True)
    assert all(server.app_token not in t for t in texts)
    assert "xapp" not in repr(listener)


def test_app_token_stays_out_of_debug_logs(server, web, caplog, monkeypatch):
    # A user who turns on DEBUG logging for everything still never sees the app token
    # (slack_sdk logs each request at DEBUG; apps.connections.open is called with it).
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    signal = StopSignal()
    listener = stop_listener(token=server.token, base_url=server.url, allowed=parse_mentions("@alice"),
                             signal=signal)
    listener.start()
    assert listener.wait_started(10)
    assert server.wait_for(lambda s: s.socket_connections == 1)
    assert server.drop_sockets() == 1  # a reconnect calls apps.connections.open again
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=30)
    press(server, web, "U0ALICE", stream_id=listener.stream_id)
    assert signal.wait(10) is not None
    listener.close(wait=True)
    assert "Reconnecting" in caplog.text or "new session" in caplog.text  # DEBUG/INFO records were kept
    assert server.app_token not in caplog.text
