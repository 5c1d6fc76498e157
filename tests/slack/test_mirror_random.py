"""Seeded random fault schedules against the local server, at the default end of a run (delivered
in the background, ``flush_timeout`` 0, then waited for): whatever mix of 5xx, dropped
connections, non-JSON bodies, short 429s, slow answers and deleted messages Slack throws at any
method the mirror calls (the message, its replies, the mention look-up, the chart's upload, the
permalink, the history look-ups), each run ends with exactly one visible message showing exactly
the final render with its mention, each end-of-run reply present exactly once, the mention
resolved, and the chart in the thread at most once."""

from __future__ import annotations

import random
import time

import pytest
from slack_sdk import WebClient

from slacknb.core.chart import Drawing
from slacknb.core.mentions import mention_slot, parse_mentions
from slacknb.slack.mirror import SlackMirror
from slacknb.slack.people import clear_cache
from slacknb.testing import SlackServer, Workspace

from support.charts import run_log

SEEDS = range(24)
METHODS = ("chat.postMessage", "chat.update", "conversations.history", "conversations.replies", "chat.getPermalink",
           "users.list", "files.getUploadURLExternal", "files.completeUploadExternal")
FAULTS = (
    {"status": 500},
    {"status": 503, "after": True},
    {"drop": True},
    {"drop": True, "after": True},
    {"non_json": True},
    {"error": "internal_error"},
    {"error": "fatal_error", "after": True},
    {"error": "service_unavailable"},
    {"delay": 0.6, "after": True},  # longer than request_timeout: the client times out
    {"delay": 0.6},
)


@pytest.fixture(scope="module")
def server():
    with SlackServer(Workspace.default()) as running:
        yield running
        assert running.errors == []


def inject_some(server, rng: random.Random, *, allow_429: bool) -> None:
    for _ in range(rng.randint(1, 3)):
        method = rng.choice(METHODS)
        if allow_429 and rng.random() < 0.15:
            server.inject(method, error="ratelimited", retry_after=1)
        else:
            server.inject(method, times=rng.randint(1, 2), **rng.choice(FAULTS))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_fault_schedule_ends_with_the_exact_final_state(server, seed):
    rng = random.Random(seed)
    server.reset()
    clear_cache()  # a cached directory would hide every look-up after the first schedule's
    server.latency = rng.choice([0.0, 0.0, 0.01, 0.05])
    outcome = rng.choice(["completed", "failed", "interrupted"])
    mirror = SlackMirror(
        server.token,
        server.channel_id,
        base_url=server.url,
        mentions="@alice",
        min_interval=rng.choice([0.0, 0.05]),
        request_timeout=0.3,
        backoff_base=0.02,
        backoff_max=0.2,
    )
    renders = [f"seed {seed} render {i} " + "#" * rng.randint(0, 50) for i in range(rng.randint(5, 30))]
    fault_at = rng.randrange(len(renders))
    delete_at = rng.randrange(len(renders)) if rng.random() < 0.25 else None
    for i, text in enumerate(renders):
        if i == fault_at:
            inject_some(server, rng, allow_429=True)
        if i == delete_at and mirror.state.ts:
            WebClient(token=server.token, base_url=server.url, retry_handlers=[]).chat_delete(
                channel=server.channel_id, ts=mirror.state.ts
            )
        mirror.update(text)
        if rng.random() < 0.2:
            # Let the worker catch up now and then, so faults also hit later edits.
            seen = len(server.calls)
            server.wait_for(lambda s: len(s.calls) > seen, timeout=1)
    inject_some(server, rng, allow_429=False)
    slot = mention_slot(parse_mentions("@alice"))
    log = run_log(12)
    started = time.monotonic()
    mirror.finish(f"seed {seed} FINAL {slot}", outcome=outcome, elapsed="0:01:00", error="RuntimeError: x",
                  chart=Drawing(outcome.title(), "random", log, len(log), None, f"random-{seed}.png"))
    assert mirror.wait_delivered(60), mirror.state
    assert time.monotonic() - started < 60
    server.latency = 0.0

    final = f"seed {seed} FINAL <@U0ALICE>"
    [message] = [m for m in server.messages() if not m.deleted]
    assert message.text == final and message.ts == mirror.state.ts
    assert mirror.state.sent_text == final and mirror.state.status == "synced"
    texts = [r.text for r in message.replies if not r.files]
    expected = ([":x: *Failed*"] if outcome == "failed" else []) + ["<@U0ALICE>"]
    assert len(texts) == len(expected), texts
    for text, start in zip(texts, expected):
        assert text.startswith(start)
    charts = [f["name"] for r in message.replies for f in r.files]
    assert charts in ([f"random-{seed}.png"], []), charts  # exactly once, or skipped and said why
    if not charts:
        assert any("chart" in problem for problem in mirror.state.problems), mirror.state.problems
    assert server.early_retries == 0
    mirror.close()
