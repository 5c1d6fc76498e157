import pytest
from hypothesis import given, strategies as st

from slacknb.core.scrub import HIDDEN, Scrubber, check_patterns, hide_arguments, looks_like_token, secret_name

BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("token", [
    BOT, APP, "xoxp-1234-5678-abcd", "xoxa-2-abc", "xoxr-1-abc", "xoxe-1-abc", "xoxe.xoxp-1-Mi0yLTE", "xoxs-12-34",
    "XOXB-12-ab",
])
def test_every_slack_token_shape_is_hidden(token):
    scrub = Scrubber()
    assert scrub(f"login failed with {token}: invalid_auth") == f"login failed with {HIDDEN}: invalid_auth"
    assert looks_like_token(token)


@pytest.mark.parametrize("text", ["xoxb-...", "see xoxb- tokens", "boxoxb-123", "max_tokens=512", "tokenizer=bert",
                                  "epoch 3 main/loss 0.25", "https://slack.com/api/"])
def test_text_that_only_looks_close_stays(text):
    assert Scrubber()(text) == text


@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "https://hooks.slack.com/workflows/T0123456789/A0123456789/123456789012345678/abcdefABCDEF0123",
    "https://hooks.slack.com/triggers/T0123456789/3141592653589/c6e6c0d868b3054ca0f4611a5dbadaf",
    "hooks.slack.com/services/T000/B000/xyz",
    "https://hooks.slack-gov.com/services/T000/B000/xyz",
])
def test_webhook_urls_are_hidden(url):
    assert Scrubber()(f"posting to <{url}|the hook>") == f"posting to <{HIDDEN}|the hook>"


def test_configured_secrets_are_hidden_whatever_their_shape():
    scrub = Scrubber(secrets=("s3cr3t-value-from-env", "", "  ", None))
    assert scrub("SLACK_BOT_TOKEN printed: s3cr3t-value-from-env.") == f"SLACK_BOT_TOKEN printed: {HIDDEN}."
    assert scrub.secrets == ("s3cr3t-value-from-env",)


def test_a_secret_inside_a_longer_one_does_not_leave_the_rest():
    scrub = Scrubber(secrets=("abcdefgh", "abcdefgh-and-more"))
    assert scrub("x abcdefgh-and-more y") == f"x {HIDDEN} y"


@pytest.mark.parametrize("text, shown", [
    ("SLACK_BOT_TOKEN=foo DB_PASSWORD='a b' x", f"SLACK_BOT_TOKEN={HIDDEN} DB_PASSWORD={HIDDEN} x"),
    ("train.py --api-key sk-1 --epochs 3", f"train.py --api-key {HIDDEN} --epochs 3"),
    ("f(token=abc, x=1)", f"f(token={HIDDEN}, x=1)"),
    ("`host:~$ train.py password=p4ss`", f"`host:~$ train.py password={HIDDEN}`"),
    ("--auth --epochs 3", "--auth --epochs 3"),
    ("client_secret=abc&amp;d", f"client_secret={HIDDEN}"),
])
def test_the_value_of_a_secret_named_setting_is_hidden(text, shown):
    assert Scrubber()(text) == shown


def test_user_patterns_are_hidden_and_may_hold_groups_and_flags():
    scrub = Scrubber(patterns=(r"hunter\d+", r"(?i)(ab)+c\1", r"(?P<x>q)z"))
    assert scrub("pw hunter22, ABABCab, qz") == f"pw {HIDDEN}, {HIDDEN}, {HIDDEN}"


def test_scrubbing_twice_changes_nothing():
    scrub = Scrubber(secrets=("sekrit-abc",), patterns=(r"hidden", r"\[hid"))
    once = scrub(f"{BOT} sekrit-abc token=x hidden")
    assert HIDDEN in once and scrub(once) == once


@given(st.text())
def test_scrub_is_total_and_idempotent(text):
    scrub = Scrubber(secrets=("sekrit-abc",), patterns=(r"\d{3,}",))
    once = scrub(text)
    assert scrub(once) == once
    assert "sekrit-abc" not in once and not looks_like_token(once)


def test_nested_values_are_scrubbed_in_one_call():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"token {BOT}"}},
              {"type": "actions", "elements": ({"text": APP, "value": 3},)}]
    assert Scrubber().nested(blocks) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"token {HIDDEN}"}},
        {"type": "actions", "elements": ({"text": HIDDEN, "value": 3},)}]
    assert Scrubber().nested(None) is None


def test_repr_never_shows_a_secret_or_a_pattern():
    scrub = Scrubber(secrets=(BOT, APP), patterns=(r"hunter2",))
    assert repr(scrub) == "Scrubber(secrets=2 hidden, patterns=1 hidden)"
    assert BOT not in str(scrub) and "hunter2" not in repr(scrub)


@pytest.mark.parametrize("patterns, problem", [
    (["ok", "hunter2("], "pattern 2 of 2 is not a regular expression"),
    (["(hunter2)*"], "matches empty text"),
])
def test_a_bad_pattern_is_refused_at_construction_without_echoing_it(patterns, problem):
    with pytest.raises(ValueError, match=problem) as error:
        Scrubber(patterns=tuple(patterns))
    assert "hunter" not in str(error.value)


@pytest.mark.parametrize("patterns", ["hunter2", [1], [None]])
def test_patterns_must_be_a_list_of_text(patterns):
    with pytest.raises(TypeError, match="hide must be a list of regular expressions"):
        check_patterns(patterns)


@pytest.mark.parametrize("argv, shown", [
    (["--token", BOT, "--epochs", "3"], ["--token", HIDDEN, "--epochs", "3"]),
    (["--token=abc"], [f"--token={HIDDEN}"]),
    (["--api-key", "k", "--api_key", "k", "--password", "p", "--passwd", "p", "--secret", "s", "--auth", "a"],
     ["--api-key", HIDDEN, "--api_key", HIDDEN, "--password", HIDDEN, "--passwd", HIDDEN, "--secret", HIDDEN,
      "--auth", HIDDEN]),
    (["token=abc", "PASSWORD=x", "db.password=y", "--hf-token", "hf_x"],
     [f"token={HIDDEN}", f"PASSWORD={HIDDEN}", f"db.password={HIDDEN}", "--hf-token", HIDDEN]),
    (["-p", "8080", "--max-tokens", "512", "--tokenizer=bert", "--token-file", "t.txt"],
     ["-p", "8080", "--max-tokens", "512", "--tokenizer=bert", "--token-file", "t.txt"]),
    (["--use-auth", "--lr", "0.1"], ["--use-auth", "--lr", "0.1"]),
    (["positional", BOT], ["positional", HIDDEN]),
])
def test_secret_named_arguments_are_hidden(argv, shown):
    assert hide_arguments(argv) == shown


@pytest.mark.parametrize("name, secret", [("--token", True), ("GITHUB_TOKEN", True), ("--wandb-api-key", True),
                                          ("client_secret", True), ("--tokens", False), ("--author", False),
                                          ("-p", False), ("--key", False)])
def test_secret_names(name, secret):
    assert secret_name(name) is secret
