"""The one latest-wins worker and the one clock: the newest item wins, waits end when the
(fake) clock moves past them or a wake-up comes, and a crash is told, never raised."""

from __future__ import annotations

import threading

from slacknb.runtime.worker import STOP, Worker

from support.clock import FakeClock


def test_the_newest_item_replaces_the_waiting_one_and_the_thread_sleeps_on_the_clock():
    clock = FakeClock()
    seen, waiting = [], threading.Event()

    def step():
        item = worker.take()
        if item is not None:
            seen.append(item)
        waiting.set()
        return 10.0  # a timed wait: ends when the clock passes it, or a wake-up comes

    worker = Worker(step, clock=clock, name="test-worker")
    with worker.lock:  # both put before the thread looks: the first one is dropped
        worker.put("old")
        worker.put("new")
    assert waiting.wait(5)
    assert seen == ["new"]
    waiting.clear()
    clock.advance(10)  # the wait ends by the clock
    assert waiting.wait(5) and seen == ["new"]
    waiting.clear()
    worker.put("newest")  # a wake-up ends it at once
    assert waiting.wait(5) and seen == ["new", "newest"]
    worker.close()
    worker.join(5)
    assert not worker.alive


def test_a_step_can_end_the_thread_and_a_crash_is_told_not_raised():
    crashes = []
    stops = Worker(lambda: STOP, clock=FakeClock(), name="stops")
    stops.wake()
    stops.join(5)
    assert not stops.alive

    def broken():
        raise RuntimeError("bug")

    crashing = Worker(broken, clock=FakeClock(), name="crashes", on_crash=crashes.append)
    crashing.wake()
    crashing.join(5)
    assert [str(c) for c in crashes] == ["bug"] and not crashing.alive


def test_the_fake_clock_moves_wall_time_and_monotonic_time_together():
    clock = FakeClock(5.0, wall=1_800_000_000.0)
    clock.advance(2.5)
    assert (clock.now(), clock.time()) == (7.5, 1_800_000_002.5)
