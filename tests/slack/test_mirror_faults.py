"""One scenario per Slack failure mode, through real slack_sdk calls to the local server:
transient faults, rate limits, credentials and channel errors, not_in_channel, a message
that disappears, a text that is too long, and posts whose outcome is unknown."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient

from slacknb.slack.mirror import SlackMirror, SlackMirrorWarning
from slacknb.core.slack_text import CUT_MARKER, cut

from support.mirror import States, mirror_for


def visible(server, channel=None):
    return [m for m in server.messages(channel or server.channel_id) if not m.deleted]


# -- transient faults -----------------------------------------------------------------

TRANSIENT = {
    "internal_error": {"error": "internal_error"},
    "service_unavailable": {"error": "service_unavailable"},
    "fatal_error": {"error": "fatal_error"},
    "request_timeout": {"error": "request_timeout"},
    "http_503": {"status": 503},
    "http_500_after": {"status": 500, "after": True},
    "non_json": {"non_json": True},
    "dropped": {"drop": True},
    "dropped_after": {"drop": True, "after": True},
    "client_timeout": {"delay": 1.5},
}


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_faults_on_edits_are_retried_with_the_newest_text(server, fault):
    states = States()
    mirror = mirror_for(server, states, request_timeout=0.5)
    mirror.update("first")
    states.wait_synced("first")
    server.inject("chat.update", times=2, **fault)
    mirror.update("second")
    retrying = states.wait_for(lambda s: s.status == "retrying")
    assert retrying.next_attempt_in is not None and retrying.detail
    mirror.update("third")
    states.wait_synced("third")
    [message] = visible(server)
    assert message.text == "third"
    mirror.close()


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_faults_on_the_first_post_leave_exactly_one_message(server, fault):
    states = States()
    mirror = mirror_for(server, states, request_timeout=0.5)
    server.inject("chat.postMessage", times=1, **fault)
    mirror.update("first")
    states.wait_synced("first")
    mirror.update("second")
    states.wait_synced("second")
    [message] = visible(server)
    assert message.text == "second" and mirror.state.ts == message.ts
    mirror.close()


def test_an_unknown_error_is_retried_a_few_times(server):
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.postMessage", error="weird_new_error", times=3)
    mirror.update("x")
    states.wait_synced("x")
    assert server.call_counts()["chat.postMessage"] == 4
    mirror.close()


def test_an_unknown_error_that_never_ends_stops_mirroring_once(server):
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.postMessage", error="weird_new_error", times=None)
    mirror.update("x")
    state = states.wait_for(lambda s: s.status == "disabled")
    assert "weird_new_error" in state.detail
    with pytest.warns(SlackMirrorWarning, match="stopped") as caught:
        mirror.update("y")
        mirror.update("z")
    assert len(caught) == 1 and not mirror.enabled


# -- rate limits ----------------------------------------------------------------------

def test_a_429_is_waited_out_then_the_newest_state_is_sent(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("a")
    states.wait_synced("a")
    server.inject("chat.update", error="ratelimited", retry_after=1, times=1)
    mirror.update("b")
    limited = states.wait_for(lambda s: s.status == "rate_limited")
    assert 0 < limited.next_attempt_in <= 1.0
    assert "Retry-After" in limited.detail
    mirror.update("c")
    states.wait_synced("c")
    assert server.early_retries == 0 and server.ratelimited == 1
    updates = [c for c in server.calls if c.method == "chat.update"]
    assert [c.status for c in updates] == [429, 200]
    assert updates[1].at - updates[0].at >= 1.0
    assert visible(server)[0].history == ["a", "c"]  # "b" was replaced while waiting
    mirror.close()


def test_the_servers_own_post_limit_is_honoured_by_runs_sharing_a_channel(server):
    # chat.postMessage allows a burst of 3 per channel, then about 1 per second.
    states = [States() for _ in range(5)]
    mirrors = [mirror_for(server, s) for s in states]
    for i, mirror in enumerate(mirrors):
        mirror.update(f"run {i}")
    for i, s in enumerate(states):
        s.wait_synced(f"run {i}", timeout=10)
    assert sorted(m.text for m in visible(server)) == [f"run {i}" for i in range(5)]
    assert server.ratelimited >= 1
    assert any(st.status == "rate_limited" for s in states for st in s.seen)
    for mirror in mirrors:
        mirror.close()


def test_a_drained_post_bucket_is_waited_out(server):
    other = WebClient(token=server.token, base_url=server.url, retry_handlers=[])
    for i in range(3):
        other.chat_postMessage(channel=server.channel_id, text=f"someone else {i}")
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("mine")
    states.wait_synced("mine")
    assert server.ratelimited == 1 and server.early_retries == 0
    assert any(s.status == "rate_limited" for s in states.seen)
    mirror.close()


# -- faults a person must fix ---------------------------------------------------------

def revoke(ws, token):
    ws.tokens[token].revoked = True


def expire(ws, token):
    ws.tokens[token].expired = True


def deactivate(ws, token):
    ws.tokens[token].inactive = True


def drop_scope(scope):
    def change(ws, token):
        info = ws.tokens[token]
        info.scopes = tuple(s for s in info.scopes if s != scope)

    return change


def archive(ws, token):
    ws.channels["C0TRAINING"].is_archived = True


FATAL = {
    "token_revoked": (revoke, None, "reinstall"),
    "token_expired": (expire, None, "SLACK_BOT_TOKEN"),
    "account_inactive": (deactivate, None, "deactivated"),
    "missing_scope": (drop_scope("chat:write"), None, "chat:write"),
    "is_archived": (archive, None, "archived"),
    "channel_not_found": (None, "C0NOWHERE", "/invite"),
    "private_not_member": (None, "C0PRIVATE", "C0PRIVATE"),
}


@pytest.mark.parametrize("change, channel, words", FATAL.values(), ids=FATAL.keys())
def test_faults_a_person_must_fix_stop_mirroring_with_one_warning(server, change, channel, words):
    if change:
        change(server.workspace, server.token)
    states = States()
    mirror = mirror_for(server, states, channel=channel)
    mirror.update("x")
    state = states.wait_for(lambda s: s.status == "disabled")
    assert words in state.detail and server.token not in state.detail
    assert not mirror.enabled
    calls = len(server.calls)
    with pytest.warns(SlackMirrorWarning) as caught:
        for i in range(3):
            mirror.update(f"later {i}")
        started = time.monotonic()
        assert mirror.finish("end", outcome="failed", elapsed="0:00:01") is False
        assert time.monotonic() - started < 0.5
    assert len(caught) == 1 and words in str(caught[0].message)
    assert len(server.calls) == calls  # later updates and finish are no-ops


def test_a_wrong_token_is_invalid_auth(server):
    states = States()
    mirror = SlackMirror("xoxb-wrong", server.channel_id, base_url=server.url, on_state=states)
    mirror.update("x")
    state = states.wait_for(lambda s: s.status == "disabled")
    assert "invalid_auth" in state.detail and "xoxb-wrong" not in state.detail
    with pytest.warns(SlackMirrorWarning, match="invalid_auth"):
        mirror.close()


def test_not_authed_names_the_variable(server):
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.postMessage", error="not_authed")
    mirror.update("x")
    assert "SLACK_BOT_TOKEN" in states.wait_for(lambda s: s.status == "disabled").detail
    with pytest.warns(SlackMirrorWarning):
        mirror.close()


# -- not_in_channel -------------------------------------------------------------------

def test_not_in_channel_joins_the_public_channel_and_posts(server):
    drop_scope("chat:write.public")(server.workspace, server.token)
    states = States()
    mirror = mirror_for(server, states, channel="C0PUBLIC2")
    mirror.update("hello")
    states.wait_synced("hello")
    assert server.call_counts()["conversations.join"] == 1
    assert [m.text for m in visible(server, "C0PUBLIC2")] == ["hello"]
    mirror.close()


def test_not_in_channel_without_the_join_scope_asks_for_an_invite(server):
    for scope in ("chat:write.public", "channels:join"):
        drop_scope(scope)(server.workspace, server.token)
    states = States()
    mirror = mirror_for(server, states, channel="C0PUBLIC2")
    mirror.update("hello")
    state = states.wait_for(lambda s: s.status == "disabled")
    assert "/invite" in state.detail and "C0PUBLIC2" in state.detail
    with pytest.warns(SlackMirrorWarning, match="/invite"):
        mirror.close()


def test_not_in_a_private_channel_cannot_join_and_asks_for_an_invite(server):
    states = States()
    mirror = mirror_for(server, states, channel="C0PRIVATE")
    server.inject("chat.postMessage", error="not_in_channel")
    mirror.update("hello")
    state = states.wait_for(lambda s: s.status == "disabled")
    assert "/invite" in state.detail and "method_not_supported_for_channel_type" in state.detail
    assert server.call_counts()["conversations.join"] == 1
    with pytest.warns(SlackMirrorWarning):
        mirror.close()


# -- the message goes away ------------------------------------------------------------

def test_a_message_deleted_mid_run_is_replaced_by_a_new_one(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("one")
    first = states.wait_synced("one")
    WebClient(token=server.token, base_url=server.url).chat_delete(channel=server.channel_id, ts=first.ts)
    mirror.update("two")
    second = states.wait_synced("two")
    mirror.update("three")
    states.wait_synced("three")
    [message] = visible(server)
    assert second.ts == message.ts != first.ts and message.history == ["two", "three"]
    assert states.wait_for(lambda s: s.ts == message.ts and s.permalink is not None).permalink.endswith(
        message.ts.replace(".", "")
    )
    mirror.close()


@pytest.mark.parametrize("error", ["cant_update_message", "edit_window_closed", "message_not_found"])
def test_a_message_that_cannot_be_edited_is_replaced(server, error):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("one")
    first = states.wait_synced("one")
    server.inject("chat.update", error=error)
    mirror.update("two")
    second = states.wait_for(lambda s: s.status == "synced" and s.sent_text == "two" and s.ts != first.ts)
    mirror.update("three")
    states.wait_synced("three")
    old, new = server.messages()
    assert old.text == "one" and new.ts == second.ts and new.history == ["two", "three"]
    mirror.close()


# -- too long -------------------------------------------------------------------------

def test_msg_too_long_cuts_to_a_smaller_budget_and_publishes_it(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("a")
    states.wait_synced("a")
    long_text = "x" * 3000
    server.inject("chat.update", error="msg_too_long")
    mirror.update(long_text)
    state = states.wait_for(lambda s: s.status == "synced" and s.sent_text != "a")
    # The run reads the budget from the state and renders within it next time.
    assert state.budget == 2400
    assert visible(server)[0].text == cut(long_text, 2400) == state.sent_text
    assert state.sent_text.endswith(CUT_MARKER) and len(state.sent_text.encode()) <= 2400
    mirror.update("short enough")
    states.wait_synced("short enough")
    mirror.close()


def test_a_text_over_slacks_limit_is_cut_before_sending_and_the_budget_published(server):
    states = States()
    mirror = mirror_for(server, states)
    assert mirror.finish("y" * 6000, outcome="completed", elapsed="0:00:01")
    text = visible(server)[0].text
    # The final status is kept after the marker (the cut keeps what must not be lost).
    assert text.endswith(CUT_MARKER + "\nCompleted") and len(text.encode()) <= 3900
    assert mirror.state.budget == 3900
    assert all(c.error != "msg_too_long" for c in server.calls)


def test_a_long_text_is_cut_with_a_visible_marker(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("a")
    states.wait_synced("a")
    mirror.update("```\n" + "z" * 5000 + "\n```")
    state = states.wait_for(lambda s: s.status == "synced" and s.sent_text != "a")
    text = visible(server)[0].text
    assert text == state.sent_text and len(text) <= 3900 and text.endswith(CUT_MARKER)
    assert text.count("```") == 2  # the cut code block is closed again
    assert all(c.error != "msg_too_long" for c in server.calls)
    mirror.close()


def test_msg_too_long_on_the_first_post_falls_back_to_cutting(server):
    mirror = mirror_for(server)
    server.inject("chat.postMessage", error="msg_too_long")
    assert mirror.finish("q" * 3000, outcome="completed", elapsed="0:00:01")
    text = visible(server)[0].text
    assert text.endswith(CUT_MARKER + "\nCompleted") and len(text.encode()) <= 2400


# -- unknown outcomes never leave two messages ------------------------------------------

UNKNOWN_OUTCOME = {
    "dropped_after": {"drop": True, "after": True},
    "fatal_error_after": {"error": "fatal_error", "after": True},
    "http_502_after": {"status": 502, "after": True},
    "timeout_after": {"delay": 1.5, "after": True},
}


@pytest.mark.parametrize("fault", UNKNOWN_OUTCOME.values(), ids=UNKNOWN_OUTCOME.keys())
def test_a_post_that_went_through_unseen_is_adopted_not_repeated(server, fault):
    states = States()
    mirror = mirror_for(server, states, request_timeout=0.5)
    server.inject("chat.postMessage", **fault)
    mirror.update("first")
    states.wait_synced("first")
    mirror.update("second")
    states.wait_synced("second")
    [message] = server.messages()
    assert message.history == ["first", "second"]
    # A delayed answer is logged when it is sent: wait for the post to show in the log.
    assert server.wait_for(lambda s: any(c.method == "chat.postMessage" for c in s.calls))
    counts = server.call_counts()
    assert counts["chat.postMessage"] == 1 and counts["conversations.history"] == 1
    mirror.close()


def test_a_post_that_did_not_go_through_is_posted_after_checking(server):
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.postMessage", error="fatal_error")  # refused, not performed
    mirror.update("first")
    states.wait_synced("first")
    assert [m.text for m in server.messages()] == ["first"]
    assert server.call_counts()["conversations.history"] == 1
    mirror.close()


def test_without_history_scope_it_posts_again_and_says_duplicates_are_possible(server):
    drop_scope("channels:history")(server.workspace, server.token)
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.postMessage", drop=True, after=True)
    mirror.update("first")
    state = states.wait_synced("first")
    assert "duplicate" in state.detail and "channels:history" in state.detail
    assert len(server.messages()) == 2  # the price of not being able to look
    mirror.update("second")
    states.wait_synced("second")
    assert server.messages()[-1].text == "second"
    mirror.close()


# -- calls that land after the client gave up on them ----------------------------------

def test_a_post_that_lands_after_a_timeout_is_adopted_not_repeated(server):
    states = States()
    mirror = mirror_for(server, states, request_timeout=0.3)  # settle: 1 s
    server.inject("chat.postMessage", delay=0.7)  # carried out 0.7 s later, after the client gave up
    mirror.update("first")
    settling = states.wait_for(lambda s: "settle" in s.detail)
    assert settling.status == "retrying" and 0 < settling.next_attempt_in <= 1.0
    states.wait_synced("first")
    [message] = server.messages()
    assert message.text == "first" and mirror.state.ts == message.ts
    assert server.call_counts()["conversations.history"] == 1
    mirror.close()


def test_an_edit_that_lands_late_cannot_leave_an_old_final_text(server):
    states = States()
    mirror = mirror_for(server, states, request_timeout=0.3)
    mirror.update("a")
    states.wait_synced("a")
    server.inject("chat.update", delay=0.7)
    mirror.update("stale")
    states.wait_for(lambda s: s.status == "retrying")
    assert mirror.finish("final", outcome="completed", elapsed="0:00:01")
    [message] = server.messages()
    assert "stale" in message.history  # it did land, possibly over "final"...
    assert message.text == "final" and message.history[-1] == "final"  # ...and was put right
    assert server.call_counts()["conversations.history"] == 1


def test_a_workspace_that_refuses_every_edit_does_not_get_a_message_per_update(server):
    states = States()
    mirror = mirror_for(server, states)
    server.inject("chat.update", error="edit_window_closed", times=None)
    with pytest.warns(SlackMirrorWarning, match="edit") as caught:
        for i in range(6):
            mirror.update(f"u{i}")
            states.wait_for(lambda s, i=i: s.sent_text == f"u{i}" or s.status == "disabled")
        mirror.close()
    state = states.wait_for(lambda s: s.status == "disabled")
    assert "edit_window_closed" in state.detail and "editing" in state.detail
    assert len(server.messages()) == 4  # the first, then three replacements, then it stops
    assert len(caught) == 1
