"""The end of a run through real slack_sdk calls to the local server: the final edit,
the failure alert and the finish reply, in that order and exactly once each, within
flush_timeout, whatever Slack does meanwhile."""

from __future__ import annotations

import time
import warnings

import pytest
from slack_sdk import WebClient

from slacknb.slack.mirror import SlackMirrorWarning

from support.mirror import States, mirror_for


TRACEBACK = """Traceback (most recent call last):
  File "train.py", line 12, in <module>
    trainer.run()
  File "updater.py", line 3, in update
    raise ValueError("bad lr <0.1> & ```fence```")
ValueError: bad lr <0.1> & ```fence```"""


def test_a_failed_run_gets_final_edit_then_alert_then_mention_reply_once_each(server):
    states = States()
    mirror = mirror_for(server, states, mentions="@alice, U0BOB", alert_prefix="@here", label="mnist <b>")
    mirror.update("epoch 3")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "epoch 3")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about when everything arrives
        delivered = mirror.finish(
            "final report",
            outcome="failed",
            elapsed="0:03:12",
            error="ValueError: bad lr <0.1>",
            traceback_tail=TRACEBACK,
            console_tail="epoch 3 loss=nan\nwarning: overflow",
        )
    assert delivered is True
    [message] = server.messages()
    assert message.text == "final report"
    alert, reply = message.replies
    assert alert.text.startswith("<!here> :x: *Failed* after 0:03:12 \u00b7 mnist &lt;b&gt;")
    assert "ValueError: bad lr &lt;0.1&gt;" in alert.text
    assert "```\n" in alert.text and "epoch 3 loss=nan" in alert.text
    assert "&amp;" in alert.text and "<0.1>" not in alert.text
    assert reply.text == "<@U0ALICE> <@U0BOB> :x: *Failed* after 0:03:12 \u00b7 mnist &lt;b&gt;"
    assert mirror.mention_markup == "<@U0ALICE> <@U0BOB>"
    order = [c.method for c in server.calls if c.method.startswith("chat.") and c.method != "chat.getPermalink"]
    assert order[-3:] == ["chat.update", "chat.postMessage", "chat.postMessage"]
    assert mirror.state.status == "synced" and mirror.state.sent_text == "final report"


@pytest.mark.parametrize("outcome, word", [("completed", "*Completed* in"), ("interrupted", "*Interrupted* after")])
def test_completed_and_interrupted_runs_notify_mentions_without_an_alert(server, outcome, word):
    mirror = mirror_for(server, mentions=["alice", "@here"])
    assert mirror.finish("done", outcome=outcome, elapsed="1:00:00")
    [reply] = server.messages()[0].replies
    assert reply.text.startswith("<@U0ALICE> <!here> :") and word in reply.text and "1:00:00" in reply.text


def test_no_mentions_and_no_alert_means_no_replies(server):
    mirror = mirror_for(server, mentions="@alice")
    assert mirror.finish("x", outcome="failed", elapsed="0:00:01", alert=False, mention=False)
    assert server.messages()[0].replies == []
    quiet = mirror_for(server)
    assert quiet.finish("y", outcome="completed", elapsed="0:00:01")
    assert server.messages()[1].replies == []


def test_finish_without_any_update_posts_the_message_and_replies(server):
    mirror = mirror_for(server, mentions="U0ALICE")
    assert mirror.finish("only", outcome="failed", elapsed="0:00:00", error="KeyboardInterrupt")
    [message] = server.messages()
    assert message.text == "only" and len(message.replies) == 2


def test_names_and_emails_are_resolved_through_the_workspace(server):
    mirror = mirror_for(server, mentions="@user249 bob@example.com @nobody-here")
    with pytest.warns(SlackMirrorWarning, match="nobody-here") as caught:
        assert mirror.finish("x", outcome="completed", elapsed="0:00:01")
    assert len(caught) == 1
    [reply] = server.messages()[0].replies
    user249 = next(u for u in server.workspace.users if u.name == "user249")
    assert reply.text.startswith(f"<@{user249.id}> <@U0BOB> :white_check_mark:")
    assert "nobody" not in reply.text and "None" not in reply.text and "[]" not in reply.text
    assert server.call_counts()["users.list"] >= 2  # the last filler user is on a later page


def test_mentions_resolve_early_so_the_final_render_can_use_them(server):
    states = States()
    mirror = mirror_for(server, states, mentions="@alice")
    assert mirror.mention_markup == ""
    mirror.update("first")
    # post + permalink + two pages of users.list, then the worker is idle again
    states.wait_for(lambda s: s.status == "synced" and s.api_calls >= 4)
    assert server.call_counts()["users.list"] == 2
    assert mirror.mention_markup == "<@U0ALICE>"
    assert mirror.finish(f"final for {mirror.mention_markup}", outcome="completed", elapsed="0:00:01")
    assert server.messages()[0].text == "final for <@U0ALICE>"


def test_a_missing_users_read_scope_is_named_in_one_warning(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "users:read")
    mirror = mirror_for(server, mentions="@alice, U0BOB")
    with pytest.warns(SlackMirrorWarning, match="users:read") as caught:
        assert mirror.finish("x", outcome="completed", elapsed="0:00:01")
    assert len(caught) == 1 and "@alice" in str(caught[0].message)
    assert server.messages()[0].replies[0].text.startswith("<@U0BOB> :white_check_mark:")


def test_alert_prefix_channel_becomes_a_control_sequence(server):
    mirror = mirror_for(server, alert_prefix=":rotating_light: @channel")
    assert mirror.finish("x", outcome="failed", elapsed="0:00:01", error="RuntimeError: boom")
    [alert] = server.messages()[0].replies
    assert alert.text.startswith(":rotating_light: <!channel> :x: *Failed*")


# -- Slack misbehaves at the end ----------------------------------------------------

def test_server_down_returns_false_within_flush_timeout_with_one_warning(server):
    mirror = mirror_for(server, mentions="U0ALICE", flush_timeout=1.0)
    mirror.update("x")
    server.wait_for(lambda s: len(s.messages()) == 1)
    server.down = True
    started = time.monotonic()
    with pytest.warns(SlackMirrorWarning) as caught:
        assert mirror.finish("final", outcome="failed", elapsed="0:00:01", error="E: e") is False
    took = time.monotonic() - started
    assert 0.9 <= took < 1.0 + 2 + 0.5  # flush_timeout, plus at most one request in flight
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "final report edit" in text and "failure alert" in text and "finish reply" in text
    assert server.token not in text
    # The final state is not lost: once Slack is back, the worker delivers it, in order.
    server.down = False
    assert server.wait_for(lambda s: s.messages()[0].text == "final" and len(s.messages()[0].replies) == 2,
                           timeout=20)
    alert, reply = server.messages()[0].replies
    assert "E: e" in alert.text and "<@U0ALICE>" in reply.text


def test_finish_waits_out_a_rate_limit_on_the_final_edit(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "a")
    server.inject("chat.update", error="ratelimited", retry_after=1)
    mirror.update("b")
    states.wait_for(lambda s: s.status == "rate_limited")
    assert mirror.finish("final", outcome="completed", elapsed="0:00:02")
    assert server.messages()[0].text == "final" and server.early_retries == 0


@pytest.mark.parametrize(
    "fault",
    [{"drop": True, "after": True}, {"error": "fatal_error", "after": True}, {"status": 503, "after": True}],
    ids=["dropped_after", "fatal_error_after", "http_503_after"],
)
def test_replies_whose_outcome_is_unknown_are_not_sent_twice(server, fault):
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE")
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.permalink is not None)
    server.inject("chat.postMessage", times=2, **fault)  # both the alert and the finish reply
    assert mirror.finish("final", outcome="failed", elapsed="0:00:02", error="E: e")
    alert, reply = server.messages()[0].replies
    assert alert.text.startswith(":x: *Failed*") and reply.text.startswith("<@U0ALICE> :x:")
    assert server.call_counts()["conversations.replies"] == 2


def test_replies_refused_outright_are_sent_again(server):
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE")
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.permalink is not None)
    server.inject("chat.postMessage", error="service_unavailable", times=2)
    assert mirror.finish("final", outcome="failed", elapsed="0:00:02")
    assert len(server.messages()[0].replies) == 2


def test_a_message_deleted_before_finish_is_posted_again_with_its_replies(server):
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE")
    mirror.update("a")
    first = states.wait_for(lambda s: s.status == "synced" and s.permalink is not None)
    WebClient(token=server.token, base_url=server.url).chat_delete(channel=server.channel_id, ts=first.ts)
    assert mirror.finish("final", outcome="completed", elapsed="0:00:02")
    old, new = server.messages()
    assert old.deleted and new.text == "final" and len(new.replies) == 1


def test_mirroring_stopped_mid_finish_returns_false_with_one_warning(server):
    mirror = mirror_for(server, mentions="U0ALICE")
    mirror.update("a")
    server.wait_for(lambda s: len(s.messages()) == 1)
    server.inject("chat.update", error="token_revoked")
    with pytest.warns(SlackMirrorWarning, match="revoked") as caught:
        assert mirror.finish("final", outcome="completed", elapsed="0:00:02") is False
    assert len(caught) == 1 and server.messages()[0].replies == []


def test_an_unknown_outcome_word_is_reported_as_failed_with_a_warning(server):
    mirror = mirror_for(server)
    with pytest.warns(SlackMirrorWarning, match="crashed"):
        assert mirror.finish("x", outcome="crashed", elapsed="0:00:01", error="E: e")
    assert server.messages()[0].replies[0].text.startswith(":x: *Failed*")


def test_a_reply_that_lands_after_a_timeout_is_not_sent_twice(server):
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE", request_timeout=0.3)
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.permalink is not None)
    server.inject("chat.postMessage", delay=0.7)
    assert mirror.finish("final", outcome="completed", elapsed="0:00:02")
    [reply] = server.messages()[0].replies
    assert reply.text.startswith("<@U0ALICE> :white_check_mark:")
    assert server.call_counts()["conversations.replies"] == 1
