"""EndingWatch: the exception that reaches sys.excepthook (a script) or ends an IPython cell ends the run."""

from __future__ import annotations

import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell

from slacknb.frameworks.endings import EndingWatch


@pytest.fixture
def no_shell():
    InteractiveShell.clear_instance()  # a script: no IPython shell in this process


def test_the_excepthook_ends_each_open_run_once_then_chains(no_shell, monkeypatch):
    seen, chained = [], []
    monkeypatch.setattr(sys, "excepthook", lambda *info: chained.append(info[1]))
    previous = sys.excepthook
    first, second = EndingWatch(lambda e: seen.append(("first", e))), EndingWatch(lambda e: seen.append(("second", e)))
    first.start(), second.start()
    assert sys.excepthook is not previous
    error = KeyboardInterrupt()
    sys.excepthook(KeyboardInterrupt, error, None)  # what the interpreter does with an uncaught exception
    assert seen == [("first", error), ("second", error)] and chained == [error]
    assert sys.excepthook is previous  # the last watch stopped: the hook is put back


def test_a_stopped_watch_is_never_called_and_the_hook_is_restored(no_shell, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", lambda *info: None)
    previous = sys.excepthook
    seen = []
    watch = EndingWatch(seen.append).start()
    watch.stop()
    watch.stop()  # twice is harmless
    assert sys.excepthook is previous
    from slacknb.frameworks import endings

    endings._at_exit()
    assert seen == []


def test_an_ipython_cell_that_raises_ends_the_run_and_a_clean_cell_does_not():
    shell = InteractiveShell.instance()
    try:
        seen = []
        watch = EndingWatch(seen.append).start()
        shell.run_cell("x = 1")
        assert seen == []
        shell.run_cell("raise ValueError('in the cell')")
        assert [type(e) for e in seen] == [ValueError]
        shell.run_cell("raise ValueError('later')")
        assert len(seen) == 1  # once
        assert watch._cell_ended not in shell.events.callbacks["post_run_cell"]
    finally:
        InteractiveShell.clear_instance()


def test_a_failing_end_warns_and_the_hook_still_chains(no_shell, monkeypatch):
    chained = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: chained.append(info[1]))

    def broken(error):
        raise OSError("Slack is gone")

    EndingWatch(broken).start()
    with pytest.warns(RuntimeWarning, match="Slack is gone"):
        sys.excepthook(ValueError, ValueError("x"), None)
    assert len(chained) == 1
