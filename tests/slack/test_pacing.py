"""Why a call waits and when the next may go: backoff, Retry-After, the end of a run's cap, the
gate's holds, read as a table on plain clock numbers."""

from __future__ import annotations

import pytest

from slacknb.slack.errors import Failure, Kind
from slacknb.slack.pacing import END_BACKOFF, Hold, Pacing, auto_interval

NOW = 50.0
FAULT = Failure(Kind.TRANSIENT, "http_503", "Slack answered with HTTP 503")


def pacing(**options) -> Pacing:
    return Pacing(**{"min_interval": None, "backoff_base": 0.5, "backoff_max": 30.0, **options})


def test_backoff_doubles_with_jitter_up_to_its_most():
    p = pacing()
    waits = []
    for _ in range(8):
        assert p.failed(FAULT, NOW) is None
        waits.append(p.resume_at - NOW)
    for wait, base in zip(waits, [0.5, 1, 2, 4, 8, 16, 30, 30]):
        assert 0.5 * base <= wait <= 1.5 * base
    assert p.hold is Hold.BACKOFF and p.last_failure is FAULT


def test_at_the_end_of_a_run_backoff_is_a_few_seconds_at_most():
    p = pacing()
    p.ending = True
    for _ in range(10):
        p.failed(FAULT, NOW)
        assert p.resume_at - NOW <= 1.5 * END_BACKOFF


@pytest.mark.parametrize("retry_after, wait", [(7.0, 7.0), (None, 1.0)])
def test_a_429_waits_exactly_what_slack_said(retry_after, wait):
    p = pacing()
    p.failed(Failure(Kind.RATE_LIMITED, "ratelimited", retry_after=retry_after), NOW)
    assert (p.resume_at, p.hold) == (NOW + wait, Hold.RETRY_AFTER)
    p.hurry(restart_backoff=True)
    assert p.resume_at == NOW + wait  # Slack asked for it: nothing cuts it short


def test_a_backoff_is_cut_short_when_the_end_of_the_run_is_worth_a_try():
    p = pacing()
    for _ in range(5):
        p.failed(FAULT, NOW)
    p.hurry(restart_backoff=True)
    assert p.resume_at == 0.0
    p.failed(FAULT, NOW)
    assert p.resume_at - NOW <= 0.75  # from the base again


def test_repeated_unexpected_errors_stop_mirroring_with_a_reason():
    p = pacing()
    odd = Failure(Kind.UNEXPECTED, "weird_error")
    assert all(p.failed(odd, NOW) is None for _ in range(5))
    assert "repeated unexpected errors (weird_error)" in p.failed(odd, NOW)


def test_a_success_clears_the_wait_and_counts_an_edit_for_min_interval():
    p = pacing(min_interval=2.0)
    p.failed(FAULT, NOW)
    p.succeeded(edited_at=NOW + 1)
    assert (p.resume_at, p.hold, p.last_failure, p.last_edit_at) == (0.0, None, None, NOW + 1)
    assert p.interval() == 2.0


@pytest.mark.parametrize("hold", [Hold.SHARED_LIMIT, Hold.FINALS_FIRST, Hold.RESERVED])
def test_the_gates_holds_are_waited_out_with_a_little_more_so_streams_spread(hold):
    p = pacing()
    p.held(hold, 4.0, NOW)
    assert p.hold is hold and NOW + 4.0 <= p.resume_at <= NOW + 4.0 + 1.05


def test_a_settling_call_is_waited_for_exactly():
    p = pacing()
    p.held(Hold.SETTLING, 2.0, NOW)
    assert (p.resume_at, p.hold.status) == (NOW + 2.0, "retrying")


@pytest.mark.parametrize("streams, seconds", [(1, 60 / 49), (5, 60 * 5 / 45), (20, 40.0), (50, 60.0)])
def test_the_automatic_interval_shares_chat_update_among_the_streams(streams, seconds):
    assert auto_interval(streams) == pytest.approx(seconds)
