"""The ``slacknb`` command line: ``slacknb server`` and ``python -m slacknb.testing`` share one parser."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from slack_sdk import WebClient

from slacknb.cli.main import build_parser
from slacknb.testing import command

SERVER_ARGS = ["--port", "8123", "--no-rate-limits", "--latency", "0.3"]


def test_slacknb_server_accepts_the_documented_options():
    args = build_parser().parse_args(["server", *SERVER_ARGS])
    assert (args.command, args.port, args.no_rate_limits, args.latency) == ("server", 8123, True, 0.3)


def test_both_commands_parse_the_same_way():
    mine = vars(build_parser().parse_args(["server", *SERVER_ARGS]))
    mine.pop("command")
    assert mine == vars(command.parser().parse_args(SERVER_ARGS))


@pytest.mark.parametrize("parse", [lambda a: build_parser().parse_args(["server", *a]),
                                   lambda a: command.parser().parse_args(a)])
def test_a_negative_latency_is_refused_by_both(parse, capsys):
    with pytest.raises(SystemExit):
        parse(["--latency", "-1"])
    assert "must be >= 0 seconds" in capsys.readouterr().err


def test_slacknb_server_serves_with_those_options():
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from slacknb.cli import main; sys.exit(main())",
         "server", "--port", "0", "--no-rate-limits", "--latency", "0.01"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = re.search(r"SLACKNB_API_URL=(\S+) SLACK_BOT_TOKEN=(\S+) SLACK_CHANNEL_ID=(\S+)", line)
        assert found, (line, process.stderr.read() if process.poll() is not None else "")
        url, token, _ = found.groups()
        assert WebClient(token=token, base_url=url, retry_handlers=[]).auth_test()["ok"]
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and err == ""


def test_the_help_names_both_frameworks():
    help_text = build_parser().format_help()
    assert "Chainer" in help_text and "PyTorch" in help_text
