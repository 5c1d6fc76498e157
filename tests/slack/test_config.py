"""Where the mirror's settings come from (pure: an explicit environment, no Slack)."""

from __future__ import annotations

import pytest

from slacknb.slack.config import DEFAULT_BASE_URL, missing_setting_hint, resolve_config


def test_arguments_win_over_the_environment():
    env = {"SLACK_BOT_TOKEN": "xoxb-env", "SLACK_CHANNEL_ID": "C0ENV", "SLACKNB_API_URL": "http://env/api"}
    config = resolve_config("xoxb-arg", "#arg", base_url="http://arg/api/", environ=env)
    assert (config.token, config.channel, config.base_url) == ("xoxb-arg", "#arg", "http://arg/api/")
    assert config.token_source == config.channel_source == "argument"


def test_bot_token_then_access_token_then_nothing():
    both = {"SLACK_BOT_TOKEN": "xoxb-bot", "SLACK_ACCESS_TOKEN": "xoxp-access"}
    assert resolve_config(environ=both).token == "xoxb-bot"
    only_access = {"SLACK_BOT_TOKEN": "  ", "SLACK_ACCESS_TOKEN": "xoxp-access"}
    config = resolve_config(environ=only_access)
    assert config.token == "xoxp-access" and config.token_source == "SLACK_ACCESS_TOKEN"
    assert resolve_config(environ={}).token is None


def test_base_url_defaults_to_slack_and_gains_a_slash():
    assert resolve_config(environ={}).base_url == DEFAULT_BASE_URL
    assert resolve_config(environ={"SLACKNB_API_URL": "http://127.0.0.1:9/api"}).base_url == "http://127.0.0.1:9/api/"
    with pytest.raises(ValueError, match="SLACKNB_API_URL"):
        resolve_config(environ={"SLACKNB_API_URL": "127.0.0.1:9/api"})


def test_values_are_stripped_and_blank_ones_are_unset():
    config = resolve_config(" xoxb-t \n", " C0X ", environ={"SLACK_CHANNEL_ID": "C0ENV"})
    assert (config.token, config.channel) == ("xoxb-t", "C0X")
    assert resolve_config(channel="", environ={"SLACK_CHANNEL_ID": "C0ENV"}).channel == "C0ENV"


def test_the_token_is_not_in_the_repr():
    config = resolve_config("xoxb-very-secret", "C0X", environ={})
    assert "xoxb-very-secret" not in repr(config) and "C0X" in repr(config)


def test_the_hint_names_what_is_missing():
    assert missing_setting_hint(resolve_config("xoxb-t", "C0X", environ={})) is None
    hint = missing_setting_hint(resolve_config(environ={}))
    assert "SLACK_BOT_TOKEN" in hint and "SLACK_CHANNEL_ID" in hint
    hint = missing_setting_hint(resolve_config("xoxb-t", environ={}))
    assert "SLACK_CHANNEL_ID" in hint and "SLACK_BOT_TOKEN" not in hint


@pytest.mark.parametrize("kwargs", [{"token": 12345}, {"channel": b"C0X"}, {"base_url": 3}])
def test_wrong_types_are_refused_without_echoing_the_value(kwargs):
    with pytest.raises(TypeError, match="must be a string") as info:
        resolve_config(environ={}, **kwargs)
    assert "12345" not in str(info.value)


def test_the_hint_names_parameters_that_exist():
    import inspect
    import re

    from slacknb import SlackReport

    hint = missing_setting_hint(resolve_config(environ={}))
    named = re.findall(r"pass (\w+)=", hint)
    assert named == ["access_token", "channel_id"]
    assert set(named) <= set(inspect.signature(SlackReport).parameters)
