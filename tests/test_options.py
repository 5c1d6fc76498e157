"""Every option checked at construction: channels that are tokens, bounded durations, numpy
numbers, the hide patterns and the run's scrub."""

from __future__ import annotations

import numpy as np
import pytest

from slacknb.options import check

from support.hostile import APP, BOT


def test_a_token_where_the_channel_goes_is_refused_without_echo():
    with pytest.raises(ValueError, match=r"channel_id looks like a Slack token.*SlackReport\(access_token, channel_id") as error:
        check(access_token="C0123ABCD", channel_id=BOT)
    assert BOT not in str(error.value) and "xoxb-1234" not in str(error.value)


def test_swapped_arguments_of_the_extension_are_refused_at_construction():
    from slacknb import SlackReport

    with pytest.raises(ValueError, match="looks like a Slack token") as error:
        SlackReport("C0123ABCD", BOT, ["epoch"])
    assert BOT not in str(error.value)


def test_a_token_in_SLACK_CHANNEL_ID_is_refused(monkeypatch):
    monkeypatch.setenv("SLACK_CHANNEL_ID", APP)
    with pytest.raises(ValueError, match="SLACK_CHANNEL_ID looks like a Slack token") as error:
        check()
    assert APP not in str(error.value)
    assert check(local=True).channel_id is None  # a local run never reads it


@pytest.mark.parametrize("name", ["min_interval", "flush_timeout", "delivery_timeout", "grace", "stall_after"])
def test_every_duration_is_bounded_and_the_error_says_the_bound(name):
    with pytest.raises(ValueError, match=r"up to 86,400 seconds \(a day\), not 1e\+10"):
        check(local=True, **{name: 1e10})
    assert getattr(check(local=True, **{name: 86_400}), name) == 86400.0  # options.MAX_SECONDS


def test_integral_and_real_numbers_of_any_kind_are_accepted():
    options = check(local=True, max_bytes=np.int64(4000), min_iterations=np.int64(3), min_interval=np.float32(2.5),
                    flush_timeout=np.int64(1), delivery_timeout=np.float64(30))
    assert (options.max_bytes, options.min_iterations) == (4000, 3)
    assert type(options.max_bytes) is int and type(options.min_iterations) is int
    assert (options.min_interval, options.flush_timeout, options.delivery_timeout) == (2.5, 1.0, 30.0)
    assert type(options.min_interval) is float
    with pytest.raises(ValueError):
        check(local=True, min_iterations=np.float64(3))
    with pytest.raises(TypeError):
        check(local=True, flush_timeout=True)


@pytest.mark.parametrize("name", ["label", "template", "alert_prefix", "channel_id"])
def test_text_that_utf8_cannot_encode_is_refused(name):
    with pytest.raises(ValueError, match="UTF-8 cannot encode"):
        check(local=True, **{name: "x\ud800"})


def test_hide_patterns_are_checked_and_never_shown():
    with pytest.raises(ValueError, match="hide: pattern 1 of 1 is not a regular expression"):
        check(local=True, hide=["hunter2("])
    options = check(local=True, hide=[r"hunter\d"], access_token=BOT)
    assert options.hide == (r"hunter\d",)
    assert "hunter" not in repr(options) and BOT not in repr(options) and "hide=[1 hidden]" in repr(options)


def test_the_runs_scrub_knows_its_tokens_and_patterns(monkeypatch):
    from slacknb.options import scrubber

    monkeypatch.setenv("SLACK_BOT_TOKEN", "env-bot-token-value")
    monkeypatch.setenv("SLACK_APP_TOKEN", "env-app-token-value")
    monkeypatch.setenv("SLACK_ACCESS_TOKEN", "")
    scrub = scrubber(check(local=True, access_token="argument-token-value", hide=[r"hunter\d"]))
    text = "argument-token-value env-bot-token-value env-app-token-value hunter2 fine"
    assert scrub(text) == "[hidden] [hidden] [hidden] [hidden] fine"
    assert "value" not in repr(scrub)


def test_stall_after_is_automatic_off_or_a_number_of_seconds():
    assert check(local=True).stall_after is None  # automatic
    assert check(local=True, stall_after=0).stall_after == 0.0  # off
    assert check(local=True, stall_after=np.int64(90)).stall_after == 90.0
    with pytest.raises(ValueError, match="stall_after / --stall-after must be from 0"):
        check(local=True, stall_after=-1)
    with pytest.raises(TypeError, match="stall_after / --stall-after must be a number of seconds"):
        check(local=True, stall_after="5 min")
