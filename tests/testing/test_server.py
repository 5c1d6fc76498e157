"""The local Slack server, exercised only through real slack_sdk WebClient calls."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slacknb.testing import Channel, SlackServer, TokenInfo, User, Workspace
from slacknb.testing.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


# -- threads, delete, permalinks, history ----------------------------------------------

def test_thread_replies_are_stored_under_the_parent(server, client):
    parent = client.chat_postMessage(channel=server.channel_id, text="run started")
    first = client.chat_postMessage(channel=server.channel_id, text="<@U0ALICE> failed", thread_ts=parent["ts"])
    client.chat_postMessage(channel=server.channel_id, text="also here", thread_ts=parent["ts"], reply_broadcast=True)
    assert first["message"]["thread_ts"] == parent["ts"]

    [top] = server.messages()
    assert [r.text for r in top.replies] == ["<@U0ALICE> failed", "also here"]
    assert all(r.thread_ts == parent["ts"] for r in top.replies)
    thread = client.conversations_replies(channel=server.channel_id, ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["run started", "<@U0ALICE> failed", "also here"]
    history = client.conversations_history(channel=server.channel_id)["messages"]
    # Only the broadcast reply shows in the channel, newest first; the parent counts its replies.
    assert [m["text"] for m in history] == ["also here", "run started"]
    assert history[1]["reply_count"] == 2


def test_reply_to_unknown_thread_is_refused(server, client):
    error = slack_error(client.chat_postMessage, channel=server.channel_id, text="x", thread_ts="1.000001")
    assert error.response["error"] == "thread_not_found"


def test_delete_then_update_gives_message_not_found(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="temporary")
    deleted = client.chat_delete(channel=posted["channel"], ts=posted["ts"])
    assert deleted["ts"] == posted["ts"]
    error = slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="again")
    assert error.response["error"] == "message_not_found"
    assert [m.deleted for m in server.messages()] == [True]
    assert server.messages(include_deleted=False) == []
    assert client.conversations_history(channel=server.channel_id)["messages"] == []


def test_someone_elses_message_cannot_be_updated(server, client):
    human = server.add_message(server.channel_id, "hello bot")
    error = slack_error(client.chat_update, channel=server.channel_id, ts=human.ts, text="edited")
    assert error.response["error"] == "cant_update_message"
    assert server.messages()[0].text == "hello bot"


def test_permalink_points_into_the_archive(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="link me")
    answer = client.chat_getPermalink(channel=posted["channel"], message_ts=posted["ts"])
    assert answer["permalink"] == f"{server.root}/archives/C0TRAINING/p{posted['ts'].replace('.', '')}"
    error = slack_error(client.chat_getPermalink, channel=posted["channel"], message_ts="1.000001")
    assert error.response["error"] == "message_not_found"


def test_history_pages_newest_first(server, client):
    server.rate_limits = False
    stamps = [client.chat_postMessage(channel=server.channel_id, text=f"m{i}")["ts"] for i in range(5)]
    first = client.conversations_history(channel=server.channel_id, limit=2)
    assert [m["ts"] for m in first["messages"]] == stamps[:-3:-1]
    assert first["has_more"] is True
    rest = client.conversations_history(channel=server.channel_id, limit=10,
                                        cursor=first["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == stamps[2::-1] and rest["has_more"] is False


def test_metadata_is_kept_and_shown_only_on_request(server, client):
    metadata = {"event_type": "slacknb_report", "event_payload": {"run": "r1"}}
    client.chat_postMessage(channel=server.channel_id, text="with metadata", metadata=metadata)
    # A form-encoded caller passes it as a JSON string.
    client.api_call("chat.postMessage", params={"channel": server.channel_id, "text": "form",
                                                "metadata": '{"event_type": "other", "event_payload": {}}'})
    assert [m.metadata["event_type"] for m in server.messages()] == ["slacknb_report", "other"]
    shown = client.conversations_history(channel=server.channel_id, include_all_metadata=True)["messages"]
    assert shown[1]["metadata"] == metadata
    hidden = client.conversations_history(channel=server.channel_id)["messages"]
    assert all("metadata" not in m for m in hidden)


def test_history_needs_membership_and_scope(server, client):
    error = slack_error(client.conversations_history, channel="C0PUBLIC2")
    assert error.response["error"] == "not_in_channel"
    server.workspace.tokens[server.token].scopes = ("chat:write",)
    error = slack_error(client.conversations_history, channel=server.channel_id)
    assert (error.response["error"], error.response["needed"]) == ("missing_scope", "channels:history")


# -- channels and users ------------------------------------------------------------------

def test_join_public_channel_then_info_shows_membership(server, client):
    assert client.conversations_info(channel="C0PUBLIC2")["channel"]["is_member"] is False
    joined = client.conversations_join(channel="C0PUBLIC2")
    assert joined["channel"]["id"] == "C0PUBLIC2"
    info = client.conversations_info(channel="C0PUBLIC2")["channel"]
    assert (info["name"], info["is_member"], info["is_private"], info["is_archived"]) == ("random", True, False, False)


def test_join_private_channel_is_not_supported(server, client):
    error = slack_error(client.conversations_join, channel="C0PRIVATE")
    assert error.response["error"] == "method_not_supported_for_channel_type"


def test_info_hides_unknown_and_private_channels(server, client):
    for channel in ("C0NOPE", "C0PRIVATE"):
        assert slack_error(client.conversations_info, channel=channel).response["error"] == "channel_not_found"
    server.workspace.channels["C0PRIVATE"].members.add("U0BOT")
    assert client.conversations_info(channel="C0PRIVATE")["channel"]["is_private"] is True


def test_users_list_paginates_over_every_user_once(server, client):
    seen, pages, cursor = [], 0, None
    while True:
        answer = client.users_list(cursor=cursor) if cursor else client.users_list()
        assert len(answer["members"]) <= 100
        seen += [m["id"] for m in answer["members"]]
        pages += 1
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(u.id for u in server.workspace.users) and len(seen) == len(set(seen))
    alice = next(m for m in client.users_list(limit=5)["members"] if m["id"] == "U0ALICE")
    assert alice["profile"]["email"] == "alice@example.com" and alice["name"] == "alice"


def test_users_list_rejects_a_forged_cursor(server, client):
    assert slack_error(client.users_list, cursor="not-a-cursor").response["error"] == "invalid_cursor"


def test_lookup_by_email(server, client):
    assert client.users_lookupByEmail(email="Bob@Example.com")["user"]["id"] == "U0BOB"
    assert slack_error(client.users_lookupByEmail, email="nobody@example.com").response["error"] == "users_not_found"
    server.workspace.tokens[server.token].scopes = ("chat:write", "users:read")
    error = slack_error(client.users_lookupByEmail, email="bob@example.com")
    assert (error.response["error"], error.response["needed"]) == ("missing_scope", "users:read.email")


def test_files_upload_v2_end_to_end(server, client):
    parent = client.chat_postMessage(channel=server.channel_id, text="run finished")
    answer = client.files_upload_v2(channel=server.channel_id, content=b"epoch,loss\n1,0.5\n",
                                    filename="log.csv", title="Training log", thread_ts=parent["ts"],
                                    initial_comment="the log")
    file_id = answer["file"]["id"]
    upload = server.uploads[file_id]
    assert upload["bytes"] == b"epoch,loss\n1,0.5\n"
    assert (upload["filename"], upload["title"], upload["channel_id"], upload["thread_ts"]) == (
        "log.csv", "Training log", server.channel_id, parent["ts"])
    [reply] = server.messages()[0].replies
    assert reply.text == "the log" and reply.files[0]["id"] == file_id


def test_completing_an_upload_that_never_happened_fails(server, client):
    url = client.files_getUploadURLExternal(filename="a.txt", length=3)
    error = slack_error(client.files_completeUploadExternal, files=[{"id": url["file_id"], "title": "a"}])
    assert error.response["error"] == "file_not_found"


# -- errors Slack gives ------------------------------------------------------------------

@pytest.mark.parametrize("change, expected", [
    (lambda info: setattr(info, "revoked", True), "token_revoked"),
    (lambda info: setattr(info, "expired", True), "token_expired"),
    (lambda info: setattr(info, "inactive", True), "account_inactive"),
])
def test_unusable_tokens(server, client, change, expected):
    change(server.workspace.tokens[server.token])
    error = slack_error(client.chat_postMessage, channel=server.channel_id, text="x")
    assert error.response["error"] == expected
    assert server.messages() == []


def test_missing_and_unknown_tokens(server):
    no_token = WebClient(base_url=server.url, retry_handlers=[])
    assert slack_error(no_token.auth_test).response["error"] == "not_authed"
    wrong = WebClient(token="xoxb-not-a-real-token", base_url=server.url, retry_handlers=[])
    assert slack_error(wrong.auth_test).response["error"] == "invalid_auth"


def test_missing_scope_names_what_is_needed(server, client):
    server.workspace.tokens[server.token].scopes = ("users:read", "channels:read")
    error = slack_error(client.chat_postMessage, channel=server.channel_id, text="x")
    assert error.response["error"] == "missing_scope"
    assert error.response["needed"] == "chat:write"
    assert error.response["provided"] == "users:read,channels:read"
    assert error.response.headers["x-oauth-scopes"] == "users:read,channels:read"


def test_not_in_channel_without_chat_write_public(server, client):
    assert client.chat_postMessage(channel="C0PUBLIC2", text="allowed by chat:write.public")["ok"]
    server.workspace.tokens[server.token].scopes = ("chat:write", "channels:join")
    error = slack_error(client.chat_postMessage, channel="#random", text="x")
    assert error.response["error"] == "not_in_channel"
    client.conversations_join(channel="C0PUBLIC2")
    assert client.chat_postMessage(channel="#random", text="after joining")["ok"]


def test_archived_channel(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="before")
    server.workspace.channels[server.channel_id].is_archived = True
    assert slack_error(client.chat_postMessage, channel=server.channel_id, text="x").response["error"] == "is_archived"
    error = slack_error(client.chat_update, channel=server.channel_id, ts=posted["ts"], text="x")
    assert error.response["error"] == "is_archived"


def test_channel_not_found_cases(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="x")
    # chat.update takes IDs only.
    error = slack_error(client.chat_update, channel="training", ts=posted["ts"], text="y")
    assert error.response["error"] == "channel_not_found"
    for ref in ("C0NOPE", "#secret", "C0PRIVATE"):
        assert slack_error(client.chat_postMessage, channel=ref, text="x").response["error"] == "channel_not_found"


def test_text_size_limits(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="x")
    assert client.chat_update(channel=posted["channel"], ts=posted["ts"], text="y" * 4000)["ok"]
    error = slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="z" * 4001)
    assert error.response["error"] == "msg_too_long"
    assert server.messages()[0].text == "y" * 4000
    long = client.chat_postMessage(channel=server.channel_id, text="w" * 40001)
    assert long["warning"] == "message_truncated" and len(server.messages()[1].text) == 40000


def test_too_many_blocks(server, client):
    blocks = [{"type": "divider"}] * 51
    assert slack_error(client.chat_postMessage, channel=server.channel_id, text="x",
                       blocks=blocks).response["error"] == "invalid_blocks"


# -- rate limits -------------------------------------------------------------------------

def test_update_over_the_limit_gets_429_with_retry_after(server, client):
    server.set_rate_limit("chat.update", 5)
    posted = client.chat_postMessage(channel=server.channel_id, text="0")
    for i in range(5):
        client.chat_update(channel=posted["channel"], ts=posted["ts"], text=str(i + 1))
    error = slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="too many")
    assert error.response.status_code == 429 and error.response["error"] == "ratelimited"
    retry_after = int(error.response.headers["Retry-After"])
    # The window frees its oldest slot a minute after the first update.
    assert 50 <= retry_after <= 60
    assert server.ratelimited == 1 and server.early_retries == 0
    assert server.messages()[0].text == "5"  # the rejected call was not performed

    slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="impatient")
    assert server.early_retries == 1
    assert server.calls[-1].retry_after == retry_after


def test_post_message_bucket_is_per_channel(server, client):
    # A slow refill (one post per 10 s) keeps the test exact however loaded the machine is.
    server.set_rate_limit("chat.postMessage", 6)
    for i in range(3):
        client.chat_postMessage(channel=server.channel_id, text=f"burst {i}")
    error = slack_error(client.chat_postMessage, channel=server.channel_id, text="fourth")
    assert error.response.status_code == 429 and 1 <= int(error.response.headers["Retry-After"]) <= 10
    # Per channel: another channel has its own budget.
    assert client.chat_postMessage(channel="C0PUBLIC2", text="elsewhere")["ok"]
    assert len(server.messages(server.channel_id)) == 3


def test_post_message_default_is_one_per_second_after_a_burst_of_three():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert [limiter.acquire("chat.postMessage", "C1") for _ in range(3)] == [None] * 3
    assert limiter.acquire("chat.postMessage", "C1") == 1
    assert limiter.acquire("chat.postMessage", "C2") is None
    clock.now += 1.0
    assert limiter.acquire("chat.postMessage", "C1") is None
    assert limiter.acquire("chat.postMessage", "C1") == 1


def test_sliding_window_frees_the_oldest_slot():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    limiter.set_limit("chat.update", 2)
    assert limiter.acquire("chat.update", "t") is None
    clock.now += 20.5
    assert limiter.acquire("chat.update", "t") is None
    assert limiter.acquire("chat.update", "t") == 40  # 60 - 20.5, rounded up
    clock.now += 39.5
    assert limiter.acquire("chat.update", "t") is None


def test_client_honouring_retry_after_is_not_counted_early(server):
    from slack_sdk.http_retry import RateLimitErrorRetryHandler

    patient = WebClient(token=server.token, base_url=server.url, timeout=5,
                        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    server.inject("chat.postMessage", error="ratelimited", retry_after=1)
    assert patient.chat_postMessage(channel=server.channel_id, text="waited")["ok"]
    assert [(c.status, c.retry_after) for c in server.calls] == [(429, 1), (200, None)]
    assert server.early_retries == 0
    assert server.calls[1].at - server.calls[0].at >= 1.0


def test_rate_limits_can_be_switched_off(server, client):
    server.rate_limits = False
    for i in range(8):
        client.chat_postMessage(channel=server.channel_id, text=str(i))
    assert server.ratelimited == 0 and len(server.messages()) == 8


# -- injected faults ---------------------------------------------------------------------

def test_injected_error_applies_the_given_number_of_times(server, client):
    posted = client.chat_postMessage(channel=server.channel_id, text="a")
    handle = server.inject("chat.update", error="internal_error", times=2)
    for _ in range(2):
        error = slack_error(client.chat_update, channel=posted["channel"], ts=posted["ts"], text="b")
        assert error.response["error"] == "internal_error"
    assert handle.remaining == 0 and handle.applied == 2
    assert client.chat_update(channel=posted["channel"], ts=posted["ts"], text="c")["ok"]
    assert server.messages()[0].history == ["a", "c"]


def test_faults_apply_in_order_per_method(server, client):
    server.inject("chat.postMessage", error="fatal_error")
    server.inject("auth.test", error="service_unavailable")
    server.inject("chat.postMessage", error="request_timeout")
    post = lambda: slack_error(client.chat_postMessage, channel=server.channel_id, text="x").response["error"]
    assert [post(), post()] == ["fatal_error", "request_timeout"]
    assert slack_error(client.auth_test).response["error"] == "service_unavailable"


def test_5xx_answer_is_not_json(server, client):
    server.inject("chat.postMessage", status=503)
    error = slack_error(client.chat_postMessage, channel=server.channel_id, text="x")
    assert error.response.status_code == 503
    assert error.response["error"].startswith("Received a response in a non-JSON format")
    assert server.messages() == []


def test_200_with_html_body(server, client):
    server.inject("auth.test", non_json=True)
    error = slack_error(client.auth_test)
    assert error.response.status_code == 200
    assert error.response["error"].startswith("Received a response in a non-JSON format")


def test_dropped_connection_is_a_connection_error_and_nothing_is_posted(server, client):
    server.inject("chat.postMessage", drop=True)
    with pytest.raises(OSError) as info:
        client.chat_postMessage(channel=server.channel_id, text="lost")
    assert not isinstance(info.value, TimeoutError)
    assert server.messages() == []
    assert server.calls[-1].status == 0


def test_drop_after_performing_leaves_the_message_posted(server, client):
    server.inject("chat.postMessage", drop=True, after=True)
    metadata = {"event_type": "slacknb_report", "event_payload": {"run": "r7"}}
    with pytest.raises(OSError):
        client.chat_postMessage(channel=server.channel_id, text="went through", metadata=metadata)
    [message] = server.messages()
    assert message.text == "went through"
    # The way a client finds out: its own message, by metadata, in the history.
    found = client.conversations_history(channel=server.channel_id, include_all_metadata=True)["messages"]
    assert [m["ts"] for m in found if m.get("metadata", {}).get("event_payload") == {"run": "r7"}] == [message.ts]


def test_error_after_performing(server, client):
    server.inject("chat.postMessage", error="fatal_error", after=True)
    assert slack_error(client.chat_postMessage, channel=server.channel_id,
                       text="posted anyway").response["error"] == "fatal_error"
    assert [m.text for m in server.messages()] == ["posted anyway"]


def test_slow_answer_times_the_client_out(server):
    impatient = WebClient(token=server.token, base_url=server.url, timeout=0.3, retry_handlers=[])
    server.inject("chat.update", delay=5.0)
    with pytest.raises(TimeoutError):
        impatient.chat_update(channel=server.channel_id, ts="1.000001", text="x")
    # The server stops promptly even with that answer still waiting (fixture teardown).


def test_forced_ratelimit_sets_retry_after_and_counts_early_retries(server, client):
    server.inject("chat.update", error="ratelimited", retry_after=2)
    error = slack_error(client.chat_update, channel=server.channel_id, ts="1.000001", text="x")
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "2"
    assert server.ratelimited == 1
    slack_error(client.chat_update, channel=server.channel_id, ts="1.000001", text="x")
    assert server.early_retries == 1


def test_fault_until_cleared_with_extra_fields(server, client):
    server.inject("users.list", error="missing_scope", needed="users:read", times=None)
    for _ in range(3):
        error = slack_error(client.users_list)
        assert (error.response["error"], error.response["needed"]) == ("missing_scope", "users:read")
    server.clear_faults()
    assert client.users_list()["ok"]


def test_inject_rejects_a_fault_without_effect(server):
    with pytest.raises(ValueError, match="needs an effect"):
        server.inject("chat.update")
    with pytest.raises(ValueError, match="cannot be combined"):
        server.inject("chat.update", drop=True, error="internal_error")


def test_down_drops_every_connection_until_restored(server, client):
    server.down = True
    with pytest.raises(OSError):
        client.auth_test()
    server.down = False
    assert client.auth_test()["ok"]


def test_latency_slows_every_answer(server, client):
    import time

    server.latency = 0.3
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.3


# -- inspection helpers ------------------------------------------------------------------

def test_wait_for_sees_a_call_made_from_another_thread(server, client):
    import threading

    worker = threading.Thread(target=client.chat_postMessage, kwargs={"channel": server.channel_id, "text": "bg"})
    worker.start()
    assert server.wait_for(lambda s: [m.text for m in s.messages()] == ["bg"], timeout=5)
    worker.join(timeout=5)
    assert server.wait_for(lambda s: len(s.messages()) == 2, timeout=0.1) is False


def test_reset_forgets_messages_calls_and_faults(server, client):
    client.chat_postMessage(channel=server.channel_id, text="x")
    server.inject("auth.test", error="internal_error", times=None)
    server.reset()
    assert server.messages() == [] and server.calls == []
    assert client.auth_test()["ok"]


def test_token_never_shows_in_reprs_or_errors(server, client):
    error = slack_error(client.chat_update, channel="C0NOPE", ts="1.000001", text="x")
    for text in (repr(server), repr(server.workspace), str(error), repr(server.calls), repr(server.messages())):
        assert server.token not in text


def test_custom_workspace():
    workspace = Workspace(
        tokens={"xoxb-other": TokenInfo(scopes=("chat:write",), user_id="U0X", bot_id="B0X")},
        channels={"C0X": Channel("C0X", "x", members={"U0X"})},
        users=[User("U0X", "xbot", is_bot=True)],
    )
    with SlackServer(workspace, rate_limits=False) as other:
        assert (other.token, other.channel_id) == ("xoxb-other", "C0X")
        other_client = WebClient(token=other.token, base_url=other.url, retry_handlers=[])
        assert other_client.chat_postMessage(channel="#x", text="hi")["channel"] == "C0X"
        assert other.messages()[0].user == "U0X"


# -- command line ------------------------------------------------------------------------

def test_command_line_prints_where_to_connect(tmp_path):
    import re
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "slacknb.testing", "--no-rate-limits"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = re.search(r"SLACKNB_API_URL=(\S+) SLACK_BOT_TOKEN=(\S+) SLACK_CHANNEL_ID=(\S+) "
                          r"SLACK_APP_TOKEN=(\S+)", line)
        assert found, line
        url, token, channel, app_token = found.groups()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/") and channel == "C0TRAINING"
        assert app_token.startswith("xapp-")
        press = process.stdout.readline()
        assert f"curl -d user=U0ALICE {url.removesuffix('/api/')}/local/press" in press, press
        listing = process.stdout.readline()
        assert f"curl {url.removesuffix('/api/')}/local/messages" in listing, listing
        cli_client = WebClient(token=token, base_url=url, retry_handlers=[])
        assert cli_client.auth_test()["user_id"] == "U0BOT"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and err == "" and out == ""
