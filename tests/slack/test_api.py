"""Every Slack call goes one way: through Api.call, with the one scrub, the call count, the shared
gate and the fault classification; and slack_sdk clients are built in one place."""

from __future__ import annotations

import re
from pathlib import Path

from slacknb.slack.api import UPLOAD_BYTES, Api, make_client
from slacknb.core.scrub import Scrubber
from slacknb.slack.errors import Kind
from slacknb.slack.limits import SharedLimits
from slacknb.slack.pacing import Hold

from support.clock import FakeClock

PACKAGE = Path(__file__).resolve().parents[2] / "slacknb"


def api_for(server, **options) -> Api:
    return Api(make_client(server.token, server.url, 5), clock=FakeClock(), **options)


def test_what_leaves_is_scrubbed_as_the_last_step(server):
    api = api_for(server, scrub=Scrubber(secrets=(server.token,)).nested)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"token {server.token}"}}]
    answer = api.call("chat.postMessage", urgent=False, channel=server.channel_id, text=f"a {server.token} b",
                      blocks=blocks)
    assert answer.ok and answer.sent_at is not None
    [message] = server.messages()
    assert server.token not in message.text and server.token not in str(message.blocks)
    assert message.text.startswith("a ") and message.text.endswith(" b")


def test_faults_are_answers_never_exceptions_and_every_call_is_counted(server):
    api = api_for(server)
    server.inject("chat.postMessage", drop=True)
    dropped = api.call("chat.postMessage", urgent=False, channel=server.channel_id, text="x")
    refused = api.call("chat.update", urgent=False, channel=server.channel_id, ts="1.000001", text="y")
    assert dropped.failure.kind is Kind.TRANSIENT and dropped.failure.maybe_performed
    assert refused.failure.kind is Kind.MESSAGE_GONE
    assert api.calls == 2


def test_a_429_holds_the_apps_other_streams_without_a_call(server, tmp_path):
    clock = FakeClock()
    limits = SharedLimits(str(tmp_path), clock=clock)
    first = Api(make_client(server.token, server.url, 5), clock=clock, limits=limits)
    other = Api(make_client(server.token, server.url, 5), clock=clock, limits=limits)
    server.inject("chat.update", error="ratelimited", retry_after=3)
    limited = first.call("chat.update", urgent=False, channel=server.channel_id, ts="1.1", text="x")
    assert limited.failure.kind is Kind.RATE_LIMITED and limited.failure.retry_after == 3
    held = other.call("chat.update", urgent=False, channel=server.channel_id, ts="1.1", text="x")
    assert held.hold is Hold.SHARED_LIMIT and held.wait > 0 and other.calls == 0


def test_the_bytes_of_an_upload_go_to_the_url_slack_handed_out(server):
    api = api_for(server)
    url = api.call("files.getUploadURLExternal", urgent=True, filename="c.png", length=4)
    assert url.ok
    assert api.call(UPLOAD_BYTES, urgent=True, url=url.data["upload_url"], data=b"\x89PNG").ok
    done = api.call("files.completeUploadExternal", urgent=True, channel_id=server.channel_id,
                    files=[{"id": url.data["file_id"], "title": "c"}])
    assert done.ok and server.uploads[url.data["file_id"]]["bytes"] == b"\x89PNG" and api.calls == 3


def test_slack_sdk_web_clients_are_built_in_one_place():
    builders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                      if re.search(r"\bWebClient\(", p.read_text()) and "testing" not in p.parts)
    assert builders == ["slack/api.py"], builders


def test_only_the_api_layer_calls_slack_sdk_web_methods():
    calls = re.compile(r"\.(chat|conversations|users|files|auth|apps)_[A-Za-z]+\(")
    callers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if calls.search(p.read_text()) and "testing" not in p.parts)
    assert callers == [], callers
