"""SlackMirror's everyday life, through real slack_sdk calls to the local Slack server:
one message posted then edited, latest-wins coalescing, pacing, configuration,
local-only mode and keeping the token secret."""

from __future__ import annotations

import logging
import statistics
import time
import warnings

import pytest

from slacknb.slack.mirror import SlackMirror, SlackMirrorWarning

from support.mirror import States, mirror_for


def test_nothing_is_sent_at_construction(server):
    mirror = mirror_for(server)
    assert server.calls == []
    assert mirror.enabled and mirror.state.status == "posting" and mirror.state.ts is None
    mirror.close()


def test_first_update_posts_and_later_ones_edit_the_same_message(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("epoch 1")
    first = states.wait_synced("epoch 1")
    mirror.update("epoch 2")
    second = states.wait_synced("epoch 2")

    [message] = server.messages(server.channel_id)
    assert message.history == ["epoch 1", "epoch 2"]
    assert first.ts == second.ts == message.ts and second.channel_id == server.channel_id
    assert server.call_counts()["chat.postMessage"] == 1 and server.call_counts()["chat.update"] == 1
    # The permalink is fetched once, after the first post.
    state = states.wait_for(lambda s: s.permalink is not None)
    assert state.permalink.endswith(f"/archives/{server.channel_id}/p{message.ts.replace('.', '')}")
    assert server.call_counts()["chat.getPermalink"] == 1
    assert mirror.state.api_calls == len(server.calls)
    mirror.close()


def test_identical_text_is_not_sent_again(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("same")
    states.wait_synced("same")
    calls = len(server.calls)
    for _ in range(5):
        mirror.update("same")
    mirror.update("different")
    states.wait_synced("different")
    assert [c.method for c in server.calls[calls:]] == ["chat.update"]
    assert mirror.finish("different", outcome="completed", elapsed="0:00:01")
    assert server.call_counts()["chat.update"] == 1
    assert server.messages()[0].history == ["same", "different"]


def test_a_channel_name_is_posted_to_and_its_id_kept_for_edits(server):
    states = States()
    mirror = SlackMirror(server.token, "#training", base_url=server.url, min_interval=0, on_state=states)
    mirror.update("one")
    assert states.wait_synced("one").channel_id == "C0TRAINING"
    # chat.update only accepts an ID: this edit succeeding shows the ID was kept.
    mirror.update("two")
    states.wait_synced("two")
    assert server.messages("C0TRAINING")[0].history == ["one", "two"]
    mirror.close()


def test_latest_wins_while_slack_is_slow_and_the_caller_never_waits(server):
    server.latency = 0.2
    mirror = mirror_for(server)
    blocked = []
    for i in range(100):
        started = time.perf_counter()
        mirror.update(f"state {i}")
        blocked.append(time.perf_counter() - started)
    assert statistics.median(blocked) < 0.001, "update must only hand the text over"
    assert max(blocked) < 0.1
    assert mirror.finish("state final", outcome="completed", elapsed="0:00:05")

    [message] = server.messages()
    assert message.text == "state final"
    counts = server.call_counts()
    assert counts["chat.postMessage"] == 1 and counts["chat.update"] <= 5
    # Whatever was sent in between was newer each time: coalescing never goes back.
    numbers = [int(t.split()[1]) for t in message.history[:-1]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_min_interval_spaces_edits(server):
    states = States()
    mirror = mirror_for(server, states, min_interval=0.4)
    mirror.update("a")
    states.wait_synced("a")
    mirror.update("b")
    waiting = states.wait_for(lambda s: s.status == "sending" and s.next_attempt_in is not None)
    assert 0 < waiting.next_attempt_in <= 0.4
    states.wait_synced("b")
    post, update = [c for c in server.calls if c.method in ("chat.postMessage", "chat.update")]
    assert update.at - post.at >= 0.4 - 0.02
    mirror.close()


def test_the_final_edit_is_not_held_back_by_min_interval(server):
    states = States()
    mirror = mirror_for(server, states, min_interval=60)
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.permalink is not None)
    mirror.update("b")  # held back for a minute...
    states.wait_for(lambda s: s.status == "sending" and s.next_attempt_in is not None)
    started = time.monotonic()
    assert mirror.finish("final", outcome="completed", elapsed="0:00:01")
    assert time.monotonic() - started < 5  # ...but the final edit goes at once
    assert server.messages()[0].history == ["a", "final"]


def test_updates_after_finish_and_a_second_finish_do_nothing(server):
    mirror = mirror_for(server)
    mirror.update("x")
    assert mirror.finish("done", outcome="completed", elapsed="0:00:01") is True
    calls = len(server.calls)
    mirror.update("late")
    assert mirror.finish("again", outcome="failed", elapsed="0:00:02") is True
    assert len(server.calls) == calls and server.messages()[0].text == "done"
    mirror.close()
    mirror.close()


def test_close_stops_the_worker(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("x")
    states.wait_synced("x")
    worker = mirror._outbox
    assert worker.alive
    mirror.close()
    worker.join(5)
    assert not worker.alive


def test_a_failing_on_state_callback_does_not_stop_mirroring(server):
    def broken(state):
        raise RuntimeError("display went away")

    mirror = mirror_for(server, broken)
    mirror.update("x")
    assert mirror.finish("y", outcome="completed", elapsed="0:00:01")
    assert server.messages()[0].text == "y"


# -- configuration --------------------------------------------------------------------

def test_without_token_or_channel_it_stays_local_and_says_so_once(server, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.warns(SlackMirrorWarning) as caught:
        mirror = SlackMirror(base_url=server.url)
        mirror.update("x")
        started = time.monotonic()
        assert mirror.finish("x", outcome="failed", elapsed="0:00:01") is False
        assert time.monotonic() - started < 0.5
    assert len(caught) == 1 and "SLACK_BOT_TOKEN" in str(caught[0].message)
    assert "SLACK_CHANNEL_ID" in str(caught[0].message)
    assert not mirror.enabled and mirror.state.status == "local" and "SLACK_BOT_TOKEN" in mirror.state.detail
    assert server.calls == []

    with pytest.warns(SlackMirrorWarning) as caught:
        only_token = SlackMirror(server.token, base_url=server.url)
    assert "SLACK_CHANNEL_ID" in only_token.state.detail and "SLACK_BOT_TOKEN" not in only_token.state.detail
    assert server.token not in str(caught[0].message)


def test_settings_come_from_the_environment(server, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_ACCESS_TOKEN", server.token)
    monkeypatch.setenv("SLACK_CHANNEL_ID", "#training")
    monkeypatch.setenv("SLACKNB_API_URL", server.url)
    mirror = SlackMirror(min_interval=0, flush_timeout=10)
    assert mirror.enabled
    assert mirror.finish("from env", outcome="completed", elapsed="0:00:01")
    assert server.messages("C0TRAINING")[0].text == "from env"


@pytest.mark.parametrize(
    "options, error, words",
    [
        ({"min_interval": -1}, ValueError, "min_interval"),
        ({"flush_timeout": -1}, ValueError, "flush_timeout"),
        ({"request_timeout": -2.0}, ValueError, "request_timeout"),
        ({"request_timeout": float("nan")}, ValueError, "request_timeout"),
        ({"min_interval": "5"}, TypeError, "min_interval"),
        ({"token": 123}, TypeError, "token"),
        ({"channel": ["C1"]}, TypeError, "channel"),
        ({"channel": "C1 C2"}, ValueError, "channel"),
        ({"base_url": "slack.com/api"}, ValueError, "http"),
        ({"mentions": 42}, TypeError, "mentions"),
        ({"label": None}, TypeError, "label"),
        ({"on_state": "print"}, TypeError, "on_state"),
        ({"client": object()}, TypeError, "WebClient"),
    ],
)
def test_wrong_options_are_refused_with_the_fix(options, error, words):
    options = {"token": "xoxb-not-used", "channel": "C0TRAINING", **options}
    with pytest.raises(error, match=words):
        SlackMirror(**options)


def test_an_injected_client_is_used_as_is(server):
    from slack_sdk import WebClient

    client = WebClient(token=server.token, base_url=server.url, retry_handlers=[])
    mirror = SlackMirror(channel=server.channel_id, client=client, min_interval=0, flush_timeout=10)
    assert mirror.finish("via client", outcome="completed", elapsed="0:00:01")
    assert server.messages()[0].text == "via client"


# -- the token stays secret -----------------------------------------------------------

def test_the_token_never_shows_in_repr_state_warnings_or_logs(server, caplog):
    secret = server.token
    caplog.set_level(logging.DEBUG)
    states = States()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mirror = mirror_for(server, states, flush_timeout=1.5, backoff_base=0.05, backoff_max=0.2)
        mirror.update("x")
        states.wait_synced("x")
        server.inject("chat.update", error="internal_error", times=2)
        mirror.update("y")
        states.wait_synced("y")
        server.down = True
        assert mirror.finish("z", outcome="failed", elapsed="0:00:01", error=f"boom {secret[:4]}") is False
        server.down = False
        server.workspace.tokens[secret].revoked = True
        second = mirror_for(server, states)
        second.update("x")
        states.wait_for(lambda s: s.status == "disabled")
        second.update("x")
        second.close()
    texts = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    texts += [repr(mirror), str(mirror), repr(second)] + [repr(s) for s in states.seen]
    assert any("revoked" in t for t in texts) and any("did not receive" in t for t in texts)
    assert not any(secret in t for t in texts)
