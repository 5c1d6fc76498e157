"""The local server's Socket Mode, ephemeral messages and kept blocks, exercised through
slack_sdk's own WebClient and its built-in SocketModeClient."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from slacknb.testing import SlackServer, TokenInfo, Workspace

STOP = {"type": "button", "action_id": "stop", "value": "run-1", "style": "danger",
        "text": {"type": "plain_text", "text": "Stop"}}
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*epoch 1*"}},
          {"type": "actions", "block_id": "controls",
           "elements": [STOP, {**STOP, "action_id": "other", "value": "run-2", "text": {"type": "plain_text", "text": "Other"}}]}]


@pytest.fixture
def web(server):
    return WebClient(token=server.token, base_url=server.url, timeout=5, retry_handlers=[])


class Listener:
    """A real SocketModeClient that acknowledges everything and keeps what it got."""

    def __init__(self, server: SlackServer, web: WebClient) -> None:
        self.messages: list[dict] = []
        self.requests: list = []
        self.client = SocketModeClient(app_token=server.app_token, web_client=web, ping_interval=0.5)
        self.client.message_listeners.append(lambda _client, message, _raw: self.messages.append(message))
        self.client.socket_mode_request_listeners.append(self._on_request)

    def _on_request(self, client, request) -> None:
        self.requests.append(request)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))


@pytest.fixture
def listener(server, web):
    made = Listener(server, web)
    made.client.connect()
    assert server.wait_for(lambda s: s.socket_connections == 1)
    yield made
    made.client.close()


def acked(server: SlackServer, envelope_id: str) -> bool:
    return server.wait_for(lambda s: any(a.envelope_id == envelope_id for a in s.acks), timeout=5)


def post_with_button(server: SlackServer, web: WebClient) -> str:
    return web.chat_postMessage(channel=server.channel_id, text="epoch 1", blocks=BLOCKS)["ts"]


def test_connect_gets_hello_and_a_press_arrives_as_block_actions(server, web, listener):
    ts = post_with_button(server, web)
    envelope_id = server.press(server.channel_id, ts, "stop", user="U0BOB")
    assert acked(server, envelope_id)
    assert [m["type"] for m in listener.messages][:2] == ["hello", "interactive"]
    assert listener.messages[0]["connection_info"]["app_id"] == "A0LOCAL"
    [request] = listener.requests
    assert (request.type, request.envelope_id) == ("interactive", envelope_id)
    payload = request.payload
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0BOB" and payload["user"]["username"] == "bob"
    assert payload["container"] == {"type": "message", "message_ts": ts, "channel_id": "C0TRAINING",
                                    "is_ephemeral": False}
    [action] = payload["actions"]
    assert (action["action_id"], action["value"], action["block_id"], action["type"]) == (
        "stop", "run-1", "controls", "button")
    assert payload["message"]["blocks"] == BLOCKS
    assert server.envelopes[-1]["envelope_id"] == envelope_id


def test_press_picks_the_button_by_action_id_or_value(server, web, listener):
    ts = post_with_button(server, web)
    first = server.press("#training", ts, value="run-2")
    assert acked(server, first)
    assert listener.requests[-1].payload["actions"][0]["action_id"] == "other"
    second = server.press(server.channel_id, ts)
    assert acked(server, second)
    assert listener.requests[-1].payload["actions"][0]["value"] == "run-1"
    with pytest.raises(ValueError, match="no button action_id='nope'"):
        server.press(server.channel_id, ts, "nope")
    with pytest.raises(ValueError, match="no user"):
        server.press(server.channel_id, ts, user="U0NOBODY")
    with pytest.raises(ValueError, match="no message"):
        server.press(server.channel_id, "1.000001")


def test_press_without_a_connection_says_so(server, web):
    ts = post_with_button(server, web)
    with pytest.raises(RuntimeError, match="no Socket Mode connection"):
        server.press(server.channel_id, ts)


def test_dropped_connection_reconnects_and_a_later_press_arrives(server, web, listener):
    ts = post_with_button(server, web)
    assert server.drop_sockets() == 1
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=10)
    assert acked(server, server.press(server.channel_id, ts))
    assert server.call_counts()["apps.connections.open"] == 2


def test_disconnect_envelope_makes_the_client_reconnect(server, web, listener):
    assert server.disconnect_sockets("warning") == 1
    assert server.wait_for(lambda s: s.socket_connects == 2 and s.socket_connections == 1, timeout=10)
    ts = post_with_button(server, web)
    assert acked(server, server.press(server.channel_id, ts))


def test_connection_url_is_one_use_and_needs_an_app_token(server, web):
    url = web.apps_connections_open(app_token=server.app_token)["url"]
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    with connect(url) as socket:
        assert json.loads(socket.recv(timeout=5))["type"] == "hello"
    with pytest.raises(InvalidStatus) as refused:
        connect(url)
    assert refused.value.response.status_code == 401
    with pytest.raises(SlackApiError) as bot:
        web.apps_connections_open(app_token=server.token)
    assert bot.value.response["error"] == "not_allowed_token_type"
    app_web = WebClient(token=server.app_token, base_url=server.url, retry_handlers=[])
    with pytest.raises(SlackApiError) as app:
        app_web.chat_postMessage(channel=server.channel_id, text="x")
    assert app.value.response["error"] == "not_allowed_token_type"


def test_app_token_without_connections_write_is_missing_scope():
    workspace = Workspace.default()
    workspace.tokens["xapp-1-bare"] = TokenInfo(scopes=(), bot_id=None, kind="app")
    with SlackServer(workspace) as server:
        web = WebClient(base_url=server.url, retry_handlers=[])
        with pytest.raises(SlackApiError) as error:
            web.apps_connections_open(app_token="xapp-1-bare")
        assert (error.value.response["error"], error.value.response["needed"]) == ("missing_scope",
                                                                                   "connections:write")


def test_update_keeps_blocks_unless_told_and_blocks_empty_removes_them(server, web):
    ts = post_with_button(server, web)
    web.chat_update(channel=server.channel_id, ts=ts, text="epoch 2")
    assert server.messages()[0].blocks == BLOCKS
    web.chat_update(channel=server.channel_id, ts=ts, text="Completed", blocks=[])
    [message] = server.messages()
    assert message.blocks is None and message.history == ["epoch 1", "epoch 2", "Completed"]
    assert message.blocks_history == [BLOCKS, BLOCKS, None]
    shown = web.conversations_history(channel=server.channel_id)["messages"][0]
    assert "blocks" not in shown


def test_post_ephemeral_is_recorded_apart_from_history(server, web):
    answer = web.chat_postEphemeral(channel=server.channel_id, user="U0ALICE", text="only you")
    [ephemeral] = server.ephemerals(server.channel_id)
    assert (ephemeral.user, ephemeral.text, ephemeral.ts, ephemeral.sender) == (
        "U0ALICE", "only you", answer["message_ts"], "U0BOT")
    assert server.messages() == []
    assert web.conversations_history(channel=server.channel_id)["messages"] == []
    for user, error in (("U1000001", "user_not_in_channel"), ("U0NOBODY", "user_not_found")):
        with pytest.raises(SlackApiError) as refused:
            web.chat_postEphemeral(channel=server.channel_id, user=user, text="x")
        assert refused.value.response["error"] == error
    server.reset()
    assert server.ephemerals() == []


def test_press_endpoint_presses_the_newest_button(server, web, listener):
    post_with_button(server, web)
    newest = post_with_button(server, web)
    web.chat_postMessage(channel=server.channel_id, text="no button here")
    request = urllib.request.Request(f"{server.root}/local/press", data=b"user=U0BOB", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        envelope_id = json.loads(answer.read())["envelope_id"]
    assert acked(server, envelope_id)
    payload = listener.requests[-1].payload
    assert (payload["container"]["message_ts"], payload["user"]["id"]) == (newest, "U0BOB")
    assert "local/press" not in server.call_counts()


def test_app_token_never_shows_in_reprs(server, web, listener):
    post_with_button(server, web)
    for text in (repr(server), repr(server.workspace), repr(server.calls), repr(server.acks),
                 repr(server.envelopes), repr(server.messages())):
        assert server.app_token not in text
