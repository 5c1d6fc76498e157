"""SignalWatch in this process, with real signals: one handler for all open runs, chained to
the handler that was there, put back when the last run ends. (Whole runs ended by a signal,
in their own processes: test_terminated.py.)"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import types

import pytest

from slacknb.frameworks import signals
from slacknb.frameworks.signals import MAX_WAIT, SignalWatch, installed


@pytest.fixture
def previous():
    """A Python handler of the script's own for SIGTERM and SIGHUP; the old ones put back after."""
    seen = []

    def handler(signum, frame):
        seen.append(signal.Signals(signum).name)

    saved = {signum: signal.signal(signum, handler) for signum in signals.SIGNALS}
    try:
        yield seen, handler
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)
        assert signals._watches == []


class Run:
    """What a report gives its watch: how it ends, and how long its end is waited for."""

    def __init__(self, name, events, *, delivered=True):
        self.name, self.events, self.delivered = name, events, delivered

    def end(self, signal_name):
        self.events.append(("end", self.name, signal_name))

    def wait(self, timeout):
        self.events.append(("wait", self.name, timeout))
        return self.delivered

    def watch(self, bound=120.0):
        return SignalWatch(self.end, self.wait, bound=bound)


def test_the_signal_ends_every_open_run_waits_then_calls_the_scripts_handler(previous):
    seen, handler = previous
    events = []
    first, second = Run("first", events).watch(bound=5.0).start(), Run("second", events).watch(bound=60.0).start()
    assert installed() == signals.SIGNALS  # one handler, whatever the number of runs
    signal.raise_signal(signal.SIGTERM)
    assert [e[:3] for e in events[:2]] == [("end", "first", "SIGTERM"), ("end", "second", "SIGTERM")]
    waits = [e for e in events if e[0] == "wait"]
    assert [w[1] for w in waits] == ["first", "second"]
    # One deadline for all: the longest bound, never past MAX_WAIT.
    assert all(0 < w[2] <= min(60.0, MAX_WAIT) for w in waits) and waits[0][2] > MAX_WAIT - 1
    assert seen == ["SIGTERM"]  # then the script's own handler decides
    # The handlers are back: a second signal goes to the script's handler alone.
    assert signal.getsignal(signal.SIGTERM) is handler and signal.getsignal(signal.SIGHUP) is handler
    signal.raise_signal(signal.SIGHUP)
    assert seen == ["SIGTERM", "SIGHUP"] and len(events) == 4
    first.stop(), second.stop()  # the runs ended: harmless


def test_nested_runs_share_the_handler_until_the_last_stops(previous):
    seen, handler = previous
    events = []
    outer = Run("outer", events).watch().start()
    inner = Run("inner", events).watch().start()
    inner.stop()
    assert installed() == signals.SIGNALS
    outer.stop()
    assert installed() == () and signal.getsignal(signal.SIGTERM) is handler
    signal.raise_signal(signal.SIGTERM)
    assert events == [] and seen == ["SIGTERM"]


def test_an_ignored_signal_stays_ignored(previous):
    events = []
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup
    watch = Run("run", events).watch().start()
    assert installed() == (signal.SIGTERM,)
    signal.raise_signal(signal.SIGHUP)
    assert events == []
    watch.stop()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN


def test_a_run_started_in_another_thread_installs_nothing_but_is_ended(previous):
    seen, _ = previous
    events = []
    other = Run("thread", events).watch()
    started = threading.Thread(target=other.start)
    started.start(), started.join()
    assert installed() == ()  # Python installs handlers from the main thread only
    main = Run("main", events).watch().start()
    signal.raise_signal(signal.SIGTERM)
    assert [e[1] for e in events if e[0] == "end"] == ["thread", "main"] and seen == ["SIGTERM"]
    main.stop()


def test_a_failing_end_warns_and_the_signal_still_goes_on(previous):
    seen, _ = previous

    def broken(name):
        raise OSError("Slack is gone")

    SignalWatch(broken, lambda timeout: False, bound=1.0).start()
    with pytest.warns(RuntimeWarning, match="not reported as Terminated.*Slack is gone"):
        signal.raise_signal(signal.SIGTERM)
    assert seen == ["SIGTERM"]


def test_the_scripts_handler_may_raise_and_its_exception_goes_on(previous):
    events = []

    def exits(signum, frame):
        raise SystemExit(3)

    signal.signal(signal.SIGTERM, exits)
    Run("run", events).watch().start()
    with pytest.raises(SystemExit):
        signal.raise_signal(signal.SIGTERM)
    assert events[0] == ("end", "run", "SIGTERM")


def test_a_signal_in_slacknbs_own_work_is_taken_again_once_out_of_it(previous):
    """The training thread holds one of slacknb's locks (a report, a print into the console
    tail): the run is not ended from inside that; the signal comes back a moment later."""
    seen, _ = previous
    ended = threading.Event()
    events = []

    def end(name):
        events.append(name)
        ended.set()

    watch = SignalWatch(end, lambda timeout: True, bound=1.0).start()
    # A function of slacknb's own (its module is one of slacknb's) that receives the signal.
    own = types.FunctionType((lambda: signal.raise_signal(signal.SIGTERM)).__code__,
                             {"__name__": "slacknb.slack.outbox", "signal": signal})
    own()
    assert events == [] and seen == []  # deferred: out of slacknb's work first
    assert ended.wait(10)  # the signal was sent again, and taken here, in the test's own code
    assert events == ["SIGTERM"] and seen == ["SIGTERM"]
    watch.stop()


def test_frames_of_code_that_calls_the_users_code_are_not_slacknbs_own_work():
    def frame_in(module):
        code = compile("import sys\nframe = sys._getframe()", "<test>", "exec")
        namespace = {"__name__": module}
        exec(code, namespace)
        return namespace["frame"]

    assert signals._in_own_work(frame_in("slacknb.run"))
    assert signals._in_own_work(frame_in("slacknb.notebook.tail"))
    assert not signals._in_own_work(frame_in("slacknb.notebook.cell"))  # the cell's code runs from here
    assert not signals._in_own_work(frame_in("torch.nn.modules"))
    assert not signals._in_own_work(None)


def stuck_in_c(rounds):
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", rounds)


def test_a_main_thread_stuck_in_a_c_call_has_its_runs_ended_by_the_wakeup_thread(previous):
    """A rank waiting in a collective for a rank that died runs no Python handler: the
    ``slacknb-signals`` thread learns of the signal from the wakeup fd and ends the runs."""
    seen, _ = previous
    ended = []
    watch = SignalWatch(lambda name: ended.append((name, threading.current_thread().name)), lambda timeout: True,
                        bound=1.0).start()
    assert signals._wakeup is not None
    # A C call that holds no GIL and checks no signal, long enough to outlast STUCK_AFTER.
    began = time.perf_counter()
    stuck_in_c(20_000)
    rounds = int(20_000 * 2.0 / max(time.perf_counter() - began, 1e-6))
    main, returned = threading.get_ident(), threading.Event()

    def signal_once_main_is_inside():
        # Runs only while the main thread released the GIL: inside the C call.
        while getattr(sys._current_frames().get(main), "f_code", None) is not stuck_in_c.__code__:
            if returned.wait(0.001):
                return
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=signal_once_main_is_inside)
    sender.start()
    stuck_in_c(rounds)
    returned.set()
    inside_ended = list(ended)
    sender.join()
    assert inside_ended == [("SIGTERM", "slacknb-signals")]  # while the main thread was still inside
    assert seen == ["SIGTERM"]  # then the main thread's handler handed the signal over
    assert installed() == () and signals._wakeup is None
    watch.stop()


def test_a_forked_child_forgets_the_parents_runs_and_handlers(previous):
    _, handler = previous
    watch = Run("parent", []).watch().start()
    child = os.fork()
    if child == 0:  # the child (a data loader's worker): nothing of the parent's runs
        ok = installed() == () and signals._watches == [] and signal.getsignal(signal.SIGTERM) is handler
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert installed() == signals.SIGNALS  # the parent's stay
    watch.stop()


def test_a_handler_installed_since_that_chains_to_ours_keeps_the_chain(previous):
    seen, _ = previous
    events = []
    watch = Run("run", events).watch().start()
    ours = signal.getsignal(signal.SIGTERM)

    def theirs(signum, frame):  # a library installed after the run started, calling the one it replaced
        ours(signum, frame)
        seen.append("theirs went on")

    signal.signal(signal.SIGTERM, theirs)
    signal.raise_signal(signal.SIGTERM)
    assert events[0] == ("end", "run", "SIGTERM")
    # The chain: theirs, ours, the handler ours replaced, and back in theirs.
    assert seen == ["SIGTERM", "theirs went on"]
    assert signal.getsignal(signal.SIGTERM) is theirs
    watch.stop()
    # Once our run ended, ours (still called by theirs) has nothing to hand over: theirs decides.
    signal.raise_signal(signal.SIGTERM)
    assert seen == ["SIGTERM", "theirs went on", "theirs went on"] and len(events) == 2
