"""Many report streams of one app at once, under Slack's shared rate limits.

The gate (slacknb.slack.limits) with real lock files; mirrors sharing it through real slack_sdk
calls to the local server; delivery that goes on after flush_timeout and at interpreter
exit; and twenty real training processes against one server with its rate limits on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

from slacknb.slack import exit_wait
from slacknb.core.context import run_id, run_name
from slacknb.slack.mirror import SlackMirrorWarning
from slacknb.slack.limits import BOARD_SHARE, STEP_ASIDE, SharedLimits
from slacknb.slack.pacing import BUDGETS, WINDOW, auto_interval

from support.training import ENTRIES
from support.clock import FakeClock
from support.mirror import States, mirror_for

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)



def take(limits, stream, *, method="chat.update", urgent=False, priority=False, outcome="made", retry_after=None):
    """One turn: returns (wait, reason); with wait 0 the 'call' is made with ``outcome``."""
    with limits.turn("app", method, "C1", urgent=urgent, stream=stream, priority=priority) as turn:
        if turn.wait > 0:
            return turn.wait, turn.reason
        if outcome == "429":
            turn.limited(retry_after)
        else:
            turn.made()
            turn.succeeded()
        return 0.0, ""


# -- the gate ---------------------------------------------------------------------------

def test_a_429_told_to_one_stream_holds_every_stream_of_the_app(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    assert take(limits, "a", outcome="429", retry_after=5) == (0.0, "")
    clock.advance(1)
    wait, reason = take(limits, "b")
    assert reason == "shared_limit" and wait == pytest.approx(4.0)
    assert take(limits, "a", urgent=True)[0] == pytest.approx(4.0)  # the final waits too: Slack said so
    assert take(limits, "b", method="chat.postMessage") == (0.0, "")  # other methods are not held
    clock.advance(4)
    assert take(limits, "b") == (STEP_ASIDE, "finals_first")  # a's final had to wait: it goes first
    assert take(limits, "a", urgent=True) == (0.0, "")
    assert take(limits, "b") == (0.0, "")


def test_a_waiting_board_goes_before_other_streams_edits_and_finals_within_its_share(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    take(limits, "trial", outcome="429", retry_after=2)
    assert take(limits, "board", priority=True)[1] == "shared_limit"  # the board waits too: Slack said so
    assert take(limits, "final", urgent=True)[1] == "shared_limit"
    clock.advance(2)
    assert take(limits, "trial") == (STEP_ASIDE, "finals_first")
    assert take(limits, "final", urgent=True) == (STEP_ASIDE, "board_first")  # the board had to wait
    assert take(limits, "board", priority=True) == (0.0, "")
    assert take(limits, "final", urgent=True) == (0.0, "")
    assert take(limits, "trial") == (0.0, "")
    for _ in range(BOARD_SHARE - 1):  # the board uses its share of the minute
        clock.advance(0.5)
        take(limits, "board", priority=True)
    take(limits, "final", urgent=True, outcome="429", retry_after=1)
    assert take(limits, "board", priority=True)[1] == "shared_limit"
    clock.advance(1)
    assert take(limits, "final", urgent=True) == (0.0, "")  # beyond its share, a board waits for finals


def test_a_board_keeps_its_share_whatever_room_the_finals_keep(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    for i in range(5):
        take(limits, f"trial-{i}")
    for _ in range(BOARD_SHARE):  # 45 calls: beyond the 44 intermediate edits may use with 6 streams
        clock.advance(0.5)
        assert take(limits, "board", priority=True) == (0.0, "")
    wait, reason = take(limits, "board", priority=True)
    # Its share used, the board waits for its first call (or the trials') to age out.
    assert reason == "reserved" and wait == pytest.approx(1000 + WINDOW - clock.now())
    assert take(limits, "trial-0")[1] == "reserved"  # the trials' edits leave the board its share
    for _ in range(BUDGETS["chat.update"] - 5 - BOARD_SHARE):
        assert take(limits, "final", urgent=True) == (0.0, "")  # finals use what is left
    wait, reason = take(limits, "final", urgent=True)
    assert reason == "full" and wait == pytest.approx(1000 + WINDOW - clock.now())  # no 429 provoked
    clock.advance(wait)
    assert take(limits, "final", urgent=True) == (0.0, "")


def test_a_stream_whose_final_is_in_frees_its_room_and_a_live_board_keeps_its_share(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    for i in range(20):  # twenty runs, each with one call this minute
        take(limits, f"run-{i}")
    with limits.turn("app", "chat.update", "C1", urgent=False, stream="run-0") as turn:
        assert turn.streams == 20
    for i in range(10):  # ten of them ended, their finals in
        limits.finished("app", f"run-{i}")
    with limits.turn("app", "chat.update", "C1", urgent=False, stream="run-10") as turn:
        assert turn.streams == 10  # only the live ones keep a final's room
    for i in range(20, 40 - 10):  # the minute fills up to what intermediate edits may use: 50 - 10
        take(limits, "run-10")
    assert take(limits, "run-11")[1] == ""  # 31st call of the minute: still within 40
    take(limits, "board", priority=True)  # a board goes live
    assert take(limits, "run-12")[1] == "reserved"  # the others now leave it its share
    assert take(limits, "board", priority=True) == (0.0, "")
    for i in range(5):  # five processes edit the board: one final's room for all of them
        take(limits, f"board-{i}", priority=True)
    with limits.turn("app", "chat.update", "C1", urgent=False, stream="run-10") as turn:
        assert turn.streams == 11
    with limits.turn("app", "users.list", None, urgent=False, stream="lookup-only") as turn:
        assert turn.streams == 12  # counted with the others (only what edits is kept in the count)
    with limits.turn("app", "chat.update", "C1", urgent=False, stream="run-10") as turn:
        assert turn.streams == 11


def test_a_final_that_had_to_wait_goes_before_other_streams_edits(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    take(limits, "a", outcome="429", retry_after=2)
    assert take(limits, "final", urgent=True)[1] == "shared_limit"  # now registered as urgent
    clock.advance(2)
    assert take(limits, "b") == (STEP_ASIDE, "finals_first")
    assert take(limits, "final", urgent=True) == (0.0, "")
    assert take(limits, "b") == (0.0, "")


def test_intermediate_edits_leave_one_call_a_minute_for_each_streams_final(tmp_path):
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    streams = [f"s{i}" for i in range(5)]
    for stream in streams:  # five streams are seen (any method counts)
        take(limits, stream, method="chat.postMessage")
    budget = BUDGETS["chat.update"] - len(streams)
    for i in range(budget):
        clock.advance(0.1)
        assert take(limits, streams[i % 5]) == (0.0, "")
    first = 1000.0 + 0.1
    wait, reason = take(limits, "s0")
    assert reason == "reserved" and wait == pytest.approx(first + WINDOW - clock.now())
    for stream in streams:  # every stream's final still finds a free call
        assert take(limits, stream, urgent=True) == (0.0, "")
    clock.advance(WINDOW + 0.01)  # the whole minute's calls have aged out
    assert take(limits, "s0") == (0.0, "")


def test_the_automatic_interval_shares_chat_update_among_the_active_runs():
    assert auto_interval(1) == pytest.approx(60 / 49)  # alone: about one edit a second
    assert auto_interval(5) == pytest.approx(60 * 5 / 45)
    assert auto_interval(20) == pytest.approx(40.0)
    assert auto_interval(50) == WINDOW  # never more than a minute apart: the gate holds the rest
    for runs in (1, 5, 20, 25):  # together, a minute of edits stays inside the room left for finals
        assert runs * WINDOW / auto_interval(runs) <= BUDGETS["chat.update"] - runs + 1e-9
    # Beyond 25 runs the minute is the bound and the gate's reservation holds the rest back.


def test_a_mirror_paces_itself_by_the_runs_the_gate_knows(server, tmp_path):
    server.rate_limits = False  # the posts below are about the gate's count, not the channel's limit
    clock = FakeClock()
    limits = SharedLimits(str(tmp_path), clock=clock)
    others = []
    for i in range(4):  # four other runs of the app edited their message this minute, still running
        seen = States()
        others.append(other := mirror_for(server, seen, clock=clock, limits=limits))
        other.update(f"other {i}")
        assert other.wait_posted(10)
        other.update(f"other {i}, edited")
        seen.wait_synced(f"other {i}, edited")
    states = States()
    mirror = mirror_for(server, states, min_interval=None, clock=clock, limits=limits)
    mirror.update("a")
    states.wait_synced("a")
    mirror.update("b")
    waiting = states.wait_for(lambda s: s.status == "sending" and s.next_attempt_in is not None)
    assert waiting.next_attempt_in == pytest.approx(auto_interval(5), abs=0.01)
    clock.advance(auto_interval(5))
    states.wait_synced("b")
    for other in others + [mirror]:
        other.close()


def test_the_gate_is_shared_through_its_files_by_processes_and_threads(tmp_path):
    # Another process gets the 429: this one must wait as well.
    code = textwrap.dedent(f"""
        from slacknb.slack.limits import SharedLimits
        with SharedLimits({str(tmp_path)!r}).turn("app", "chat.update", None, urgent=False, stream="x") as t:
            assert t.wait == 0
            t.limited(30)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=ROOT)
    wait, reason = take(SharedLimits(str(tmp_path)), "y")
    assert reason == "shared_limit" and 28 < wait <= 30

    # Two gates (no lock in common but the file's): one turn at a time.
    first, second = SharedLimits(str(tmp_path)), SharedLimits(str(tmp_path))
    holding, release, entered = threading.Event(), threading.Event(), threading.Event()

    def hold():
        with first.turn("app", "chat.postMessage", "C1", urgent=False, stream="a"):
            holding.set()
            release.wait(10)

    def enter():
        with second.turn("app", "chat.postMessage", "C1", urgent=False, stream="b"):
            entered.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    contender = threading.Thread(target=enter)
    contender.start()
    assert not entered.wait(0.3), "a second turn began while the first was held"
    release.set()
    assert entered.wait(10)
    holder.join(10)
    contender.join(10)
    for name in os.listdir(tmp_path):  # never the token, only hashes and times
        assert "xoxb" not in (tmp_path / name).read_text()


# -- mirrors sharing one app's limits -------------------------------------------------------

def test_a_retry_after_told_to_one_mirror_holds_the_other_and_both_end_right(server, tmp_path):
    limits = SharedLimits(str(tmp_path))
    states_a, states_b = States(), States()
    a, b = mirror_for(server, states_a, limits=limits), mirror_for(server, states_b, limits=limits)
    a.update("a1")
    b.update("b1")
    states_a.wait_synced("a1")
    states_b.wait_synced("b1")
    server.inject("chat.update", error="ratelimited", retry_after=2)
    a.update("a2")
    states_a.wait_for(lambda s: s.status == "rate_limited")
    b.update("b2")
    held = states_b.wait_for(lambda s: s.status == "rate_limited")
    assert "Retry-After" in held.detail
    assert a.finish("a final", outcome="completed", elapsed="0:00:02")
    assert b.finish("b final", outcome="completed", elapsed="0:00:02")
    assert sorted(m.text for m in server.messages()) == ["a final", "b final"]
    assert server.ratelimited == 1 and server.early_retries == 0
    limited = next(c for c in server.calls if c.status == 429)
    later = [c for c in server.calls if c.method == "chat.update" and c.at > limited.at]
    assert later and min(c.at for c in later) >= limited.at + 2 - 0.01


def held_since(before: set) -> list:
    """The deliveries interpreter exit would wait for, started after ``before`` was taken."""
    return [sender for sender in exit_wait.pending() if id(sender) not in before]


def test_what_flush_timeout_did_not_see_arrive_is_still_delivered(server, tmp_path):
    before = {id(sender) for sender in exit_wait.pending()}
    states = States()
    mirror = mirror_for(server, states, limits=SharedLimits(str(tmp_path)), mentions="U0ALICE", flush_timeout=0.5)
    mirror.update("a")
    states.wait_synced("a")
    server.inject("chat.update", error="ratelimited", retry_after=2)
    mirror.update("b")
    states.wait_for(lambda s: s.status == "rate_limited")
    with pytest.warns(SlackMirrorWarning, match="still trying in the background") as caught:
        assert mirror.finish("final", outcome="completed", elapsed="0:00:01") is False
    assert len(caught) == 1 and server.token not in str(caught[0].message)
    [delivering] = held_since(before)  # interpreter exit would wait for it
    assert delivering.wait_finished(8)
    [message] = server.messages()
    assert message.text == "final" and len(message.replies) == 1
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "final")
    assert held_since(before) == [] and server.early_retries == 0


def test_delivery_stops_at_its_hard_bound(server, tmp_path):
    before = {id(sender) for sender in exit_wait.pending()}
    states = States()
    mirror = mirror_for(server, states, limits=SharedLimits(str(tmp_path)), flush_timeout=0.3, delivery_timeout=1.0)
    mirror.update("a")
    states.wait_synced("a")
    server.down = True
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlackMirrorWarning)
        assert mirror.finish("final", outcome="completed", elapsed="0:00:01") is False
    gave_up = states.wait_for(lambda s: s.status == "disabled", timeout=5)
    assert "gave up" in gave_up.detail
    assert 1.0 <= time.monotonic() - started < 1.0 + 2 + 1  # the bound, plus one request in flight
    assert held_since(before) == []  # nothing left for interpreter exit to wait for


@pytest.mark.parametrize("flush_timeout", [0.5, 0.0], ids=["flush_0.5", "no_wait_default"])
def test_a_script_that_ends_right_after_its_run_still_delivers_at_exit(server, tmp_path, flush_timeout):
    server.inject("chat.update", error="ratelimited", retry_after=2)
    script = textwrap.dedent(f"""
        import warnings
        from slacknb.slack.mirror import SlackMirror
        mirror = SlackMirror({server.token!r}, {server.channel_id!r}, base_url={server.url!r},
                             min_interval=0, flush_timeout={flush_timeout!r}, mentions="U0ALICE")
        mirror.update("training")
        assert mirror.wait_posted(10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            print("finish returned", mirror.finish("final", outcome="completed", elapsed="0:00:01"))
    """)
    env = {**os.environ, "SLACKNB_LIMITS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "finish returned False" in done.stdout
    assert "waiting up to" in done.stderr and server.token not in done.stderr
    # The process has ended: everything must already be there.
    [message] = server.messages()
    assert message.text == "final" and len(message.replies) == 1
    assert server.early_retries == 0


# -- labels -------------------------------------------------------------------------------

def test_the_default_label_names_the_script_or_notebook_and_a_short_run_id():
    assert run_name(argv=["/home/me/exp/train.py", "--lr", "0.1"]) == "train"
    assert run_name(notebook="work/mnist sweep.ipynb") == "mnist sweep"
    assert run_name(argv=["-c"]) == "python" and run_name(in_kernel=True) == "notebook"
    ids = {run_id(environ={}) for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 6 for i in ids)
    job = {"PMIX_NAMESPACE": "1234"}
    assert run_id(environ=job) == run_id(environ=dict(job)) != run_id(environ={"PMIX_NAMESPACE": "1235"})
    assert run_id(environ={"SLURM_JOB_ID": "77", "SLURM_STEP_ID": "0"}) != run_id(
        environ={"SLURM_JOB_ID": "77", "SLURM_STEP_ID": "1"})


# -- twenty training processes --------------------------------------------------------------

@pytest.mark.timeout(300)
def test_twenty_training_processes_each_end_in_their_own_message(server, tmp_path):
    runs = 20
    assert server.rate_limits  # Slack's: chat.update 50/min per app, chat.postMessage 1/s per channel
    env = {**os.environ, "SLACK_BOT_TOKEN": server.token, "SLACK_CHANNEL_ID": server.channel_id,
           "SLACKNB_API_URL": server.url, "SLACKNB_LIMITS_DIR": str(tmp_path / "limits")}
    env.pop("SLACK_ACCESS_TOKEN", None)
    script = os.path.join(TESTS, "support", "stream_train.py")
    processes = [
        subprocess.Popen([sys.executable, script, str(i), str(tmp_path / f"out{i}"), str(tmp_path / f"{i}.json")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for i in range(runs)
    ]
    errors = []
    for process in processes:
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr
        assert server.token not in stderr
        errors.append(stderr)
    results = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(runs)]
    messages = server.messages(server.channel_id)
    labels = [r["label"] for r in results]

    assert len(messages) == runs and len(set(labels)) == runs
    assert all(label.startswith("stream_train-") for label in labels)
    for result, stderr in zip(results, errors):
        # Each process's own final table, exactly as its renderer made it, in exactly one message.
        [message] = [m for m in messages if m.text == result["text"]]
        assert message.text.startswith(f"{result['label']} Completed\n")
        rows = message.text.split("```")[1].strip("\n").splitlines()
        assert rows[0].split() == ENTRIES and len(rows) == 1 + result["epochs"]
        reply, *chart = message.replies  # the mention reply, then the run's chart
        assert reply.text.startswith("<@U0ALICE> :white_check_mark: *Completed*") and result["label"] in reply.text
        if chart:
            assert [f["name"] for f in chart[0].files] == [f"{result['label']}-completed.png"]
        else:  # the chart is extra: after the essential end, a process waits for it a few seconds only
            assert "left out after waiting 5 s for it: chart" in stderr
        others = [label for label in labels if label != result["label"]]
        for text in [message.text, reply.text, *message.history]:
            assert not any(label in text for label in others)
    assert server.ratelimited > 0, "twenty runs in one channel should have met the rate limits"
    assert server.early_retries == 0

