"""The end of the runs still on their way when a process or a kernel ends: what is waited for,
what is said, and that a kernel's displays are left alone while it shuts down."""

from __future__ import annotations

import io
import sys

from slacknb.slack import exit_wait

from support.mirror import States, mirror_for


def test_a_kernel_shutting_down_stops_the_views_following_and_waits_for_the_essential_end(server):
    server.latency = 0.3
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE", flush_timeout=0)
    mirror.update("Training")
    mirror.finish("Completed", outcome="completed", elapsed="0:00:01")
    seen = len(states.seen)
    exit_wait.before_kernel_shutdown(wait=10)
    # The essential end arrived within the wait, and no subscriber heard of it after the mute.
    [message] = server.messages()
    assert message.text == "Completed" and message.replies[0].text.startswith("<@U0ALICE>")
    assert len(states.seen) == seen
    mirror.close()


def test_at_exit_a_short_wait_is_not_announced_and_what_was_found_is_said(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "users:read")
    mirror = mirror_for(server, mentions="@alice", flush_timeout=0)
    mirror.finish("Completed", outcome="completed", elapsed="0:00:01")
    out = io.StringIO()
    assert exit_wait.wait_for_pending(out=out) == 0
    said = out.getvalue()
    assert "waiting up to" not in said
    assert "@alice" in said and "users:read" in said and said.count("\n") == 1
    mirror.close()


def test_at_exit_a_long_wait_says_so_and_how_it_ended(server):
    server.latency = 0.6
    mirror = mirror_for(server, mentions="U0ALICE", flush_timeout=0)
    mirror.finish("Completed", outcome="completed", elapsed="0:00:01")
    out = io.StringIO()
    assert exit_wait.wait_for_pending(out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("slacknb: waiting up to ") and "for Slack to receive the end of 1 run" in lines[0]
    assert lines[-1].startswith("slacknb: Slack received the end of 1 run after ")
    assert server.messages()[0].replies[0].text.startswith("<@U0ALICE>")
    mirror.close()


def test_the_views_are_muted_at_a_kernels_exit_only(server, monkeypatch):
    states = States()
    mirror = mirror_for(server, states, flush_timeout=0)
    mirror.finish("Completed", outcome="completed", elapsed="0:00:01")
    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel") or object())
    exit_wait.wait_for_pending(out=io.StringIO())
    count = len(states.seen)
    mirror._outbox.publisher.update(detail="after the exit")  # what the worker would publish later
    assert len(states.seen) == count
    mirror.close()
