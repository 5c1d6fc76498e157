"""Where a run happens: the command line as the message header shows it."""

import shlex

import pytest

from slacknb.core.context import command_arguments


@pytest.mark.parametrize("argv, shown", [
    (["--token", "xoxb-1-2-abc", "--epochs", "3"], "--token [hidden] --epochs 3"),
    (["--api-key=sk 1", "--password", "p w", "PASSWORD=x"], "--api-key=[hidden] --password [hidden] PASSWORD=[hidden]"),
    (["--lr", "0.1", "a b", ""], "--lr 0.1 'a b' ''"),
    (["note xoxp-9-9 end"], "'note '[hidden]' end'"),
])
def test_the_command_line_hides_secret_values_and_stays_shell_quoted(argv, shown):
    assert command_arguments(argv) == shown
    assert len(shlex.split(shown)) == len(argv)
