"""The board's lease: its timing on a fake clock, and real processes bidding on one journal-file storage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from slacknb.frameworks.lease import CLAIM_PREFIX, LEASE_KEY, Lease, LeaseRecord, winner

from support.clock import FakeClock

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)


class Attributes:
    """A study's attributes as a storage holds them: what each process reads and writes."""

    def __init__(self):
        self.values: dict = {}
        self.lock = threading.Lock()

    def read(self):
        with self.lock:
            return dict(self.values)

    def write(self, key, value):
        with self.lock:
            self.values[key] = value


def lease(attrs, me, clock, **timing):
    return Lease(attrs.read, attrs.write, me=me, clock=clock, **timing)


class Bid:
    """``lease.acquire()`` on a thread of its own (it waits the settle time on the clock)."""

    def __init__(self, lease_, attrs):
        self.result = None
        self._thread = threading.Thread(target=self._run, args=(lease_,), daemon=True)
        self._claimed = lambda: CLAIM_PREFIX + lease_.me in attrs.read()
        self._thread.start()

    def _run(self, lease_):
        self.result = lease_.acquire()

    def claimed(self):
        """Wait until the bid's claim is in the storage (it then waits the settle time)."""
        deadline = time.monotonic() + 10
        while not self._claimed():
            assert time.monotonic() < deadline, "no claim written"
            time.sleep(0.001)
        return self

    def outcome(self):
        self._thread.join(10)
        assert not self._thread.is_alive(), "the bid is still waiting"
        return self.result


def test_a_lone_bidder_holds_the_lease_after_the_settle_time():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    alone = lease(attrs, "a", clock)
    bid = Bid(alone, attrs).claimed()
    assert LEASE_KEY not in attrs.read()  # nothing decided before the settle time
    clock.advance(1.0)
    assert bid.outcome() is True and alone.held
    assert LeaseRecord.read(attrs.read()) == LeaseRecord("a", 1011.0, -1, False)


def test_of_two_bids_within_the_settle_time_the_earlier_claim_wins():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    first, second = lease(attrs, "z-first", clock), lease(attrs, "a-second", clock)
    bid_first = Bid(first, attrs).claimed()
    clock.advance(0.5)
    bid_second = Bid(second, attrs).claimed()
    clock.advance(0.5)  # the first reads: both claims, its own the smaller (earlier, whatever the ids)
    assert bid_first.outcome() is True
    clock.advance(0.5)  # the second reads: the first's live lease
    assert bid_second.outcome() is False
    assert not second.held and LeaseRecord.read(attrs.read()).holder == "z-first"


def test_claims_stamped_alike_are_ordered_by_id():
    attrs = {CLAIM_PREFIX + "b": {"at": 5.0}, CLAIM_PREFIX + "a": {"at": 5.0}, CLAIM_PREFIX + "c": {"at": 4.0},
             CLAIM_PREFIX + "old": {"at": 1.0}, CLAIM_PREFIX + "gone": {"at": None}, "user's": {"at": 0}}
    assert winner(attrs, now=5.5, claim_life=3.0) == "c"
    assert winner({k: v for k, v in attrs.items() if not k.endswith("c")}, now=5.5, claim_life=3.0) == "a"
    assert winner(attrs, now=10.0, claim_life=3.0) is None  # all aged out or withdrawn


def test_while_a_live_lease_is_held_others_do_not_even_claim():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    holder, other = lease(attrs, "h", clock), lease(attrs, "o", clock)
    bid = Bid(holder, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    assert other.acquire() is False  # at once: no settle wait
    assert CLAIM_PREFIX + "o" not in attrs.read()


def test_a_dead_holders_lease_is_taken_over_once_its_term_is_over():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    dead, heir = lease(attrs, "dead", clock), lease(attrs, "heir", clock)
    bid = Bid(dead, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()  # ... and it never renews
    clock.advance(9.9)
    assert heir.acquire() is False  # until 1011.0: still live
    clock.advance(0.2)
    bid = Bid(heir, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome() is True and LeaseRecord.read(attrs.read()).holder == "heir"


def test_a_winner_that_died_before_writing_its_lease_is_passed_over_after_claim_life():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    attrs.write(CLAIM_PREFIX + "dead", {"at": 1000.0})  # claimed, then died: no lease
    heir = lease(attrs, "heir", clock)
    clock.advance(0.1)
    bid = Bid(heir, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome() is False  # the dead claim is the smaller, and still young
    clock.advance(2.0)  # 1003.1: the dead claim is older than claim_life
    bid = Bid(heir, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome() is True


def test_the_holder_renews_with_the_version_shown_and_releases_for_the_next_at_once():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    holder, next_ = lease(attrs, "h", clock), lease(attrs, "n", clock)
    bid = Bid(holder, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    clock.advance(1.0)
    assert holder.keep(shown=3) and LeaseRecord.read(attrs.read()).shown == -1  # not due yet
    clock.advance(1.0)
    assert holder.keep(shown=3) and LeaseRecord.read(attrs.read()) == LeaseRecord("h", 1013.0, 3, False)
    holder.release(shown=7)
    assert LeaseRecord.read(attrs.read()) == LeaseRecord("h", 1003.0, 7, True) and not holder.held
    bid = Bid(next_, attrs).claimed()  # the released holder's claim is withdrawn: no claim_life wait
    clock.advance(1.0)
    assert bid.outcome() is True
    assert LeaseRecord.read(attrs.read()).shown == 7  # the version shown goes on with the lease


def test_a_holder_that_stalled_near_its_term_gives_the_lease_up():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    holder = lease(attrs, "h", clock)
    bid = Bid(holder, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    clock.advance(9.1)  # past term - settle by its own clock: others may be bidding already
    assert not holder.held
    assert holder.keep(shown=0) is False


def test_a_taken_over_holder_learns_it_at_its_next_renewal():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    holder = lease(attrs, "h", clock)
    bid = Bid(holder, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    attrs.write(LEASE_KEY, {"holder": "other", "until": 1020.0, "shown": 0, "released": False})
    clock.advance(2.0)
    assert holder.keep(shown=0) is False and not holder.held


def test_close_ends_a_bid_that_waits():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    bidder = lease(attrs, "b", clock)
    bid = Bid(bidder, attrs).claimed()
    bidder.close()
    assert bid.outcome() is False


def test_bad_timing_is_refused_at_construction():
    with pytest.raises(ValueError, match="settle < claim_life"):
        Lease(dict, lambda k, v: None, me="x", settle=3.0, claim_life=3.0)


@pytest.mark.timeout(240)
def test_processes_bidding_at_once_on_a_journal_file_hold_the_lease_one_at_a_time(tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = str(tmp_path / "journal.log")
    optuna.create_study(study_name="bids", storage=JournalStorage(JournalFileBackend(journal)))
    bidders = 6
    start_at = time.time() + 8.0  # every process imported Optuna by then: they bid at the same moment
    script = os.path.join(TESTS, "support", "lease_bidder.py")
    outs = [str(tmp_path / f"bidder{i}.json") for i in range(bidders)]
    processes = [subprocess.Popen([sys.executable, script, journal, "bids", repr(start_at), "0.6", out], cwd=ROOT)
                 for out in outs]
    for process in processes:
        assert process.wait(timeout=200) == 0
    held = sorted((json.load(open(out)) for out in outs), key=lambda h: h["began"])
    assert len(held) == bidders  # every process held it once
    for earlier, later in zip(held, held[1:]):
        assert earlier["ended"] <= later["began"], f"two holders at once: {earlier} and {later}"
    assert held[0]["rounds"] == 1 and max(h["rounds"] for h in held) > 1  # they really did bid at once


def test_an_offered_lease_is_taken_over_and_its_holder_learns_it_at_once():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    leaving, successor = lease(attrs, "leaving", clock), lease(attrs, "successor", clock)
    bid = Bid(leaving, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    assert successor.acquire() is False  # a live lease: not even a claim
    leaving.offer(shown=4)
    assert LeaseRecord.read(attrs.read()).leaving and leaving.held and not leaving.bidders()
    bid = Bid(successor, attrs).claimed()  # an offered lease is open: bid as if there were none
    assert leaving.bidders() and leaving.keep(shown=4)  # it edits on meanwhile
    clock.advance(1.0)
    assert bid.outcome() is True
    assert LeaseRecord.read(attrs.read()) == LeaseRecord("successor", 1012.0, 4, False, False)
    clock.advance(0.5)  # less than a renewal: a leaving holder looks every time all the same
    assert leaving.keep(shown=5) is False and not leaving.held


def test_an_offer_taken_back_closes_the_lease_again():
    clock, attrs = FakeClock(1000.0, wall=1000.0), Attributes()
    holder, other = lease(attrs, "h", clock), lease(attrs, "o", clock)
    bid = Bid(holder, attrs).claimed()
    clock.advance(1.0)
    assert bid.outcome()
    holder.offer(shown=1)
    holder.stay(shown=2)  # optimize runs here again
    assert LeaseRecord.read(attrs.read()) == LeaseRecord("h", 1011.0, 2, False, False)
    assert other.acquire() is False
