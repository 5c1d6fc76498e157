"""The local Slack server, exercised only through real slack_sdk WebClient calls."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slacknb.testing import Channel, SlackServer, TokenInfo, User, Workspace


# The pattern to copy: one fresh server per test, checked for its own bugs on the way out.
@pytest.fixture
def server():
    with SlackServer() as running:
        yield running
        assert running.errors == []


@pytest.fixture
def client(server):
    # No retry handlers: each test sees exactly what the server answered.
    return WebClient(token=server.token, base_url=server.url, timeout=5, retry_handlers=[])


def slack_error(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value


# -- the core: auth, post, update, inspect ---------------------------------------------

def test_auth_test_describes_bot_and_team(server, client):
    answer = client.auth_test()
    assert answer["user_id"] == "U0BOT" and answer["bot_id"] == "B0BOT"
    assert answer["team_id"] == "T0LOCAL" and answer["user"] == "slacknb"
    assert "chat:write" in answer.headers["x-oauth-scopes"].split(",")


def test_post_then_update_edits_one_message(server, client):
    posted = client.chat_postMessage(channel="#training", text="epoch 1")
    assert posted["channel"] == server.channel_id
    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="epoch 2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "epoch 2"

    [message] = server.messages(server.channel_id)
    assert (message.ts, message.text, message.user) == (posted["ts"], "epoch 2", "U0BOT")
    assert message.history == ["epoch 1", "epoch 2"]
    history = client.conversations_history(channel=server.channel_id)
    assert [m["text"] for m in history["messages"]] == ["epoch 2"]


def test_post_accepts_id_name_and_hash_name_and_keeps_blocks(server, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    for ref in ("C0TRAINING", "training", "#training"):
        assert client.chat_postMessage(channel=ref, text="hi", blocks=blocks)["channel"] == "C0TRAINING"
    assert [m.blocks for m in server.messages()] == [blocks] * 3


def test_ts_strictly_increase_and_are_unique(server, client):
    server.rate_limits = False
    stamps = [client.chat_postMessage(channel=server.channel_id, text=str(i))["ts"] for i in range(20)]
    assert len(set(stamps)) == 20
    assert stamps == sorted(stamps, key=lambda ts: tuple(map(int, ts.split("."))))
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_form_encoded_token_in_body_is_accepted(server):
    anonymous = WebClient(base_url=server.url, retry_handlers=[])
    # slack_sdk moves a `token` param into the Authorization header; send it raw too.
    answer = anonymous.api_call("auth.test", params={"token": server.token})
    assert answer["ok"] is True
    raw = anonymous.api_call("conversations.info", data={"token": server.token, "channel": "C0TRAINING"})
    assert raw["channel"]["name"] == "training"


def test_calls_and_counts_record_each_request(server, client):
    client.auth_test()
    slack_error(client.chat_update, channel=server.channel_id, ts="1.000001", text="x")
    assert server.call_counts() == {"auth.test": 1, "chat.update": 1}
    last = server.calls[-1]
    assert (last.method, last.status, last.ok, last.error, last.channel) == (
        "chat.update", 200, False, "message_not_found", "C0TRAINING")


def test_unknown_method(server, client):
    error = slack_error(client.api_call, "chat.teleport")
    assert error.response["error"] == "unknown_method"
