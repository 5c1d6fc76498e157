"""The one worker, through real slack_sdk calls to the local server: Block Kit blocks on
edits, uploads at the end of a run, and pacing and end-of-run deadlines on a fake clock
(no test here waits real seconds for a timer)."""

from __future__ import annotations

import threading
import warnings

import pytest

from slacknb.core.chart import Drawing, chart_png
from slacknb.slack import thread
from slacknb.slack.limits import SharedLimits
from slacknb.slack.mirror import SlackMirrorWarning

from support.charts import run_log
from support.clock import FakeClock
from support.mirror import States, mirror_for
BUTTON = [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Stop"},
                                            "action_id": "stop", "value": "run"}]}]


def test_edits_carry_blocks_and_the_final_edit_removes_them(server):
    states = States()
    mirror = mirror_for(server, states)
    mirror.update("epoch 1", blocks=BUTTON)
    states.wait_synced("epoch 1")
    assert server.messages()[0].blocks == BUTTON
    mirror.update("epoch 2", blocks=BUTTON)
    states.wait_synced("epoch 2")
    assert mirror.finish("final", outcome="completed", elapsed="0:00:02", blocks=[])
    [message] = server.messages()
    assert message.text == "final" and not message.blocks
    updates = [c for c in server.calls if c.method == "chat.update"]
    assert len(updates) == 2  # the same blocks again are not a reason to skip a new text


def chart_of(log, filename="loss.png") -> Drawing:
    return Drawing("Completed", "mnist", log, len(log), None, filename)


def test_a_chart_is_uploaded_once_into_the_thread_after_the_replies(server, monkeypatch):
    drawn = []

    def spy(*args, **kwargs):
        drawn.append(threading.current_thread().name)
        return chart_png(*args, **kwargs)

    monkeypatch.setattr(thread, "chart_png", spy)
    mirror = mirror_for(server, mentions="U0ALICE")
    assert mirror.finish("final", outcome="failed", elapsed="0:00:02", error="E: e", chart=chart_of(run_log(30)))
    [message] = server.messages()
    [upload] = server.uploads.values()
    assert upload["bytes"].startswith(b"\x89PNG") and upload["filename"] == "loss.png"
    assert upload["title"] == "mnist · Completed"
    assert upload["channel_id"] == server.channel_id and upload["thread_ts"] == message.ts
    alert, reply, shared = message.replies
    assert alert.text.startswith(":x:") and reply.text.startswith("<@U0ALICE>") and shared.files
    assert drawn == ["slacknb-slack"]  # drawn once, on the worker, never on the training thread
    # Three calls make an upload; none of them reads the thread when nothing went wrong.
    methods = [c.method for c in server.calls]
    assert methods.count("files.getUploadURLExternal") == methods.count("files.completeUploadExternal") == 1
    assert "conversations.replies" not in methods


def test_an_upload_without_files_write_is_one_warning_and_the_rest_arrives(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "files:write")
    mirror = mirror_for(server, mentions="U0ALICE")
    with pytest.warns(SlackMirrorWarning, match="files:write") as caught:
        assert mirror.finish("final", outcome="completed", elapsed="0:00:01", chart=chart_of(run_log(30)))
    assert len(caught) == 1 and server.token not in str(caught[0].message)
    [message] = server.messages()
    assert message.text == "final" and [r.text[:11] for r in message.replies] == ["<@U0ALICE> "]
    assert mirror.state.status == "synced" and server.uploads == {}
    assert any("files:write" in problem for problem in mirror.state.problems)


def test_a_chart_with_nothing_to_draw_uploads_nothing(server):
    mirror = mirror_for(server)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = [{"epoch": 1, "lr": 0.1}]  # no loss, no accuracy: nothing to draw
        assert mirror.finish("final", outcome="completed", elapsed="0:00:01", chart=chart_of(log))
    assert server.uploads == {} and server.messages()[0].replies == []


# -- time on a fake clock -----------------------------------------------------------------

def test_min_interval_spaces_edits_on_the_injected_clock(server, tmp_path):
    clock = FakeClock()
    states = States()
    mirror = mirror_for(server, states, min_interval=10, clock=clock, limits=SharedLimits(str(tmp_path), clock=clock))
    mirror.update("a")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "a" and s.permalink)
    mirror.update("b")
    waiting = states.wait_for(lambda s: s.status == "sending" and s.next_attempt_in is not None)
    assert waiting.next_attempt_in == pytest.approx(10, abs=0.01)
    clock.advance(9.9)
    assert not server.wait_for(lambda s: len(s.messages()[0].history) > 1, timeout=0.3)
    clock.advance(0.1)
    states.wait_synced("b")
    assert server.messages()[0].history == ["a", "b"]
    mirror.close()


def finish_in_background(mirror, **kwargs):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("delivered", mirror.finish("final", **kwargs)))
    thread.start()
    return thread, result


def delivered(server) -> bool:
    message = server.messages()[0]
    return message.text == "final" and len(message.replies) == 1


@pytest.mark.filterwarnings("ignore::slacknb.slack.mirror.SlackMirrorWarning")
def test_flush_timeout_and_the_background_delivery_run_on_the_injected_clock(server, tmp_path):
    clock = FakeClock()
    states = States()
    mirror = mirror_for(server, states, mentions="U0ALICE", clock=clock, flush_timeout=30, delivery_timeout=120,
                        limits=SharedLimits(str(tmp_path), clock=clock))
    mirror.update("a")
    states.wait_synced("a")
    server.down = True
    thread, result = finish_in_background(mirror, outcome="completed", elapsed="0:00:01")
    states.wait_for(lambda s: s.status == "retrying")
    thread.join(0.2)
    assert thread.is_alive(), "finish() must wait for flush_timeout on the injected clock"
    clock.advance(30)
    thread.join(10)
    assert result == {"delivered": False}
    server.down = False
    for _ in range(40):  # a backoff wait ends only as the fake clock moves
        if server.wait_for(delivered, timeout=0.2):
            break
        clock.advance(0.5)
    assert delivered(server)
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "final")


@pytest.mark.filterwarnings("ignore::slacknb.slack.mirror.SlackMirrorWarning")
def test_delivery_gives_up_at_its_hard_bound_on_the_injected_clock(server, tmp_path):
    clock = FakeClock()
    states = States()
    mirror = mirror_for(server, states, clock=clock, flush_timeout=5, delivery_timeout=60,
                        limits=SharedLimits(str(tmp_path), clock=clock))
    mirror.update("a")
    states.wait_synced("a")
    server.down = True
    thread, result = finish_in_background(mirror, outcome="completed", elapsed="0:00:01")
    states.wait_for(lambda s: s.status == "retrying")
    clock.advance(5)
    thread.join(10)
    assert result == {"delivered": False}
    assert mirror.state.status != "disabled"  # still trying in the background
    clock.advance(55)
    gave_up = states.wait_for(lambda s: s.status == "disabled")
    assert "gave up" in gave_up.detail
