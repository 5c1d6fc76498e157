"""The stall watch: a run on the local Slack server, its thresholds on a fake clock, where the
training thread waits read from the real thread; and one real training script that stalls."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading

import pytest
from support.clock import FakeClock

from slacknb.core.outcome import Ending
from slacknb.core.state import Status
from slacknb.frameworks import stalls
from slacknb.frameworks.stalls import StallWatch, stack_of
from slacknb.options import check
from slacknb.run import ReportRun

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(TESTS, "support", "signal_script.py")


def stuck_in_a_data_loader(release: threading.Event) -> None:
    release.wait()  # the "training thread" of these tests waits here


@pytest.fixture
def stuck_thread():
    release = threading.Event()
    thread = threading.Thread(target=stuck_in_a_data_loader, args=(release,), daemon=True)
    thread.start()
    yield thread
    release.set()
    thread.join()


def training_run(server, **options):
    options = check(access_token=server.token, channel_id=server.channel_id, base_url=server.url, min_interval=0,
                    flush_timeout=10, finish_mentions="@alice", **options)
    run = ReportRun.from_options(options, views=[], label="stall-test")
    run.start(log=[], label="stall-test")
    run.state.log.append({"epoch": 1, "main/loss": 0.5})
    run.record(elapsed=1.0, iterations=1, log_grew=True)
    return run, options


def statuses(server):
    [message] = server.messages(server.channel_id)
    seen = []
    for text in message.history:
        word = text.split(" ", 1)[0]
        if not seen or seen[-1] != word:
            seen.append(word)
    return seen


def replies(server):
    messages = server.messages(server.channel_id)
    return messages[0].replies if messages else []


def shows(server, word):
    return server.wait_for(lambda s: s.messages(s.channel_id) and s.messages(s.channel_id)[0].text.startswith(word))


def test_a_stall_marks_the_message_says_where_and_iterations_bring_training_back(server, stuck_thread):
    run, options = training_run(server, stall_after=60)
    assert shows(server, "Training - ")
    # The people are looked up at the start, in the background: a real stall comes later.
    looked_up = threading.Event()
    run.mirror.subscribe(lambda state: state.mentions and looked_up.set())
    assert run.mirror.mention_markup or looked_up.wait(30)
    clock, iteration = FakeClock(wall=1_796_000_000.0), [1]
    watch = StallWatch(run, lambda: iteration[0], stall_after=options.stall_after, clock=clock).start(
        thread=stuck_thread.ident, background=False)
    clock.advance(59.9)
    watch.poll()
    assert run.state.status == "Training" and watch.stalls == 0
    clock.advance(0.1)
    watch.poll()
    assert run.state.status == "Stalled" and shows(server, "Stalled - ")
    # Where the training thread waits: this file, the line, the function, innermost first.
    line = inspect.getsourcelines(stuck_in_a_data_loader)[1] + 1
    here = os.path.abspath(__file__).replace(os.path.expanduser("~"), "~", 1)
    assert f'File "{here}", line {line} in stuck_in_a_data_loader' in watch.where
    assert watch.where.index("threading.py") < watch.where.index("stuck_in_a_data_loader")
    assert server.wait_for(lambda s: replies(s) and replies(s)[0].text.startswith(
        "<@U0ALICE> :hourglass_flowing_sand: Stalled: no iteration for 1 min (last: iteration 1 at <!date^1796000"))
    clock.advance(300)
    watch.poll()
    assert watch.stalls == 1  # told once
    iteration[0] = 2
    watch.poll()
    assert run.state.status == "Training" and shows(server, "Training - ")
    assert server.wait_for(lambda s: replies(s)[0].text.startswith(":arrow_forward: Stalled for 6 min, then resumed"))
    watch.stop()
    run.finish(Ending(Status.COMPLETED))
    assert statuses(server)[-4:] == ["Training", "Stalled", "Training", "Completed"]
    assert len([r for r in replies(server) if "Stalled" in r.text]) == 1  # one reply, edited


def test_automatic_waits_for_an_iteration_then_five_minutes_at_least(server, stuck_thread):
    run, _ = training_run(server)
    clock, iteration = FakeClock(), [0]
    watch = StallWatch(run, lambda: iteration[0], stall_after=None, clock=clock).start(
        thread=stuck_thread.ident, background=False)
    clock.advance(3600)  # a first iteration that takes an hour (compiling, downloading): not a stall
    watch.poll()
    iteration[0] = 1
    watch.poll()  # its hour is now the longest interval: 10 hours
    clock.advance(9 * 3600)
    watch.poll()
    assert watch.stalls == 0
    clock.advance(3600)
    watch.poll()
    assert watch.stalls == 1 and run.state.status == "Stalled"
    run.finish(Ending(Status.FAILED))
    clock.advance(10)
    iteration[0] = 2
    watch.poll()
    assert run.state.status == "Failed"  # a watch never marks a run that ended


def test_zero_turns_the_watch_off_and_no_thread_runs(server):
    run, _ = training_run(server, stall_after=0)
    watch = StallWatch(run, lambda: 1, stall_after=0).start()
    assert watch not in stalls._watches and watch.period == 1.0
    run.finish(Ending(Status.COMPLETED))


def test_a_failing_iteration_reader_stops_the_watch_with_one_warning(server):
    run, _ = training_run(server, stall_after=5)

    def broken():
        raise RuntimeError("no updater")

    watch = StallWatch(run, lambda: 1, stall_after=5, clock=FakeClock()).start(background=False)
    watch._iteration = broken
    with pytest.warns(RuntimeWarning, match="stall watch stopped.*no updater"):
        watch.poll()
    watch.poll()  # stopped: nothing more
    run.finish(Ending(Status.COMPLETED))


def test_the_stack_of_a_thread_that_is_gone_is_empty():
    assert stack_of(sys._current_frames(), -1) == []
    assert stack_of(sys._current_frames(), threading.get_ident())[0][2] == "test_the_stack_of_a_thread_that_is_gone_is_empty"


def run_stalling_script(slack_env, tmp_path, framework):
    pytest.importorskip("pytorch_pfn_extras" if framework == "ppe" else "chainer")
    done = subprocess.run([sys.executable, SCRIPT, framework, "stall", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "TEST_STALL_AFTER": "2"}, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.parametrize("framework", ["ppe", "chainer"])
def test_a_real_run_that_sleeps_in_one_iteration_reads_stalled_then_completes(slack_env, tmp_path, framework):
    done = run_stalling_script(slack_env, tmp_path, framework)
    seen = statuses(slack_env)
    # Training, Stalled while the iteration sleeps, Training again, Completed. (Edits in
    # between are latest-wins, and a loaded machine may make a slow start read Stalled too.)
    assert seen[-1] == "Completed" and seen[-3:-1] == ["Stalled", "Training"], seen
    assert "Training" in seen[:seen.index("Stalled", seen.index("Training"))], seen
    assert "slacknb: Stalled\n" in done.stderr and "slacknb: Training again\n" in done.stderr


def test_a_real_stall_sends_one_reply_naming_the_scripts_line_edited_when_it_resumes(slack_env, tmp_path):
    run_stalling_script(slack_env, tmp_path, "ppe")
    [message] = slack_env.messages(slack_env.channel_id)
    [reply] = [r for r in message.replies if "Stalled" in r.text]
    source = open(SCRIPT).read().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "time.sleep(STALL)" in text)
    assert f'signal_script.py", line {line} in slow_iteration' in reply.text
    assert reply.history[0].startswith("<@U0ALICE> :hourglass_flowing_sand: Stalled: no iteration for ")
    assert reply.text.startswith(":arrow_forward: Stalled for ")  # edited once training resumed


def test_a_run_ending_right_after_its_stall_tells_the_resumption_first(server, stuck_thread):
    run, _ = training_run(server, stall_after=5)
    clock, iteration = FakeClock(), [1]
    watch = StallWatch(run, lambda: iteration[0], stall_after=5, clock=clock).start(
        thread=stuck_thread.ident, background=False)
    clock.advance(6)
    watch.poll()
    assert run.state.status == "Stalled"
    iteration[0] = 2  # iterations came back, and the run ends before the next sample
    clock.advance(0.1)
    watch.stop()
    assert run.state.status == "Training"
    watch.poll()  # stopped: nothing more
    run.finish(Ending(Status.COMPLETED))
    assert statuses(server)[-1] == "Completed"
