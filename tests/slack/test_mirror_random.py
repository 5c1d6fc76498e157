"""Seeded random fault schedules against the local server: whatever mix of 5xx, dropped
connections, non-JSON bodies, short 429s, slow answers and deleted messages Slack
throws, each run ends with exactly one visible message showing exactly the final
render, and each end-of-run reply present exactly once."""

from __future__ import annotations

import random
import time

import pytest
from slack_sdk import WebClient

from slacknb.slack.mirror import SlackMirror
from slacknb.testing import SlackServer, Workspace

SEEDS = range(24)
METHODS = ("chat.postMessage", "chat.update", "conversations.history", "conversations.replies", "chat.getPermalink")
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
    server.latency = rng.choice([0.0, 0.0, 0.01, 0.05])
    outcome = rng.choice(["completed", "failed", "interrupted"])
    mirror = SlackMirror(
        server.token,
        server.channel_id,
        base_url=server.url,
        mentions="U0ALICE",
        min_interval=rng.choice([0.0, 0.05]),
        request_timeout=0.3,
        flush_timeout=20,
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
    final = f"seed {seed} FINAL"
    started = time.monotonic()
    assert mirror.finish(final, outcome=outcome, elapsed="0:01:00", error="RuntimeError: x"), mirror.state
    assert time.monotonic() - started < 20
    server.latency = 0.0

    [message] = [m for m in server.messages() if not m.deleted]
    assert message.text == final and message.ts == mirror.state.ts
    assert mirror.state.sent_text == final and mirror.state.status == "synced"
    replies = [r.text for r in message.replies]
    expected = ([":x: *Failed*"] if outcome == "failed" else []) + ["<@U0ALICE>"]
    assert len(replies) == len(expected)
    for text, start in zip(replies, expected):
        assert text.startswith(start)
    assert server.early_retries == 0
