"""The console view: the table PrintReport prints, for scripts and terminals."""

from __future__ import annotations

import sys
from typing import TextIO

from slacknb.core.state import STALLED, TERMINATED
from slacknb.core.table import RowFormat, format_header
from slacknb.views.html import frame_scrub

__all__ = ["ConsoleView"]

# Statuses a log file should show by themselves (the table alone cannot say them).
_TOLD = (STALLED, TERMINATED)


class ConsoleView:
    """Writes the header once, then every new log row, as PrintReport does.

    On ``err`` (default: stderr) it says once where the report is, when the Slack message
    is first posted: the table on ``out`` stays exactly PrintReport's. With :attr:`table` False
    (the training prints its own table, or a progress bar) it prints only that line.
    """

    def __init__(self, out: TextIO | None = None, *, err: TextIO | None = None):
        self.out = out
        self.err = err
        self.table = True
        self._announced = False
        self._printed = 0
        self._entries = None
        self._format = None
        self._status = None

    def show(self) -> None:
        self._printed = 0

    def refresh(self, frame) -> None:
        self._announce(getattr(frame, "sync", None))
        self._tell_status(frame.state)
        out = self.out or sys.stdout
        log = frame.state.log
        if not self.table or len(log) <= self._printed or not frame.entries:
            return
        if frame.entries != self._entries:
            # Columns appear as the log fills (entries=None): reprint the header.
            self._entries = frame.entries
            self._format = RowFormat(frame.entries)
            out.write(format_header(frame.entries) + "\n")
        scrub = frame_scrub(frame)  # the run's secrets never reach the console either
        for observation in log[self._printed:]:
            out.write(scrub(self._format(observation)) + "\n")
        self._printed = len(log)
        if hasattr(out, "flush"):
            out.flush()

    def finish(self, frame) -> None:
        """The end of the run, and the delivery after it: only the Slack line can be new."""
        self._announce(getattr(frame, "sync", None))

    def _tell_status(self, state) -> None:
        """One line on ``err`` when the run stalls, resumes after a stall, or is terminated."""
        status, before = state.status, self._status
        self._status = status
        if status != before and (status in _TOLD or before == STALLED):
            by = f" {state.stopped_by}" if status == TERMINATED and state.stopped_by else ""
            again = " again" if before == STALLED and not state.finished else ""
            print(f"slacknb: {status}{by}{again}", file=self.err or sys.stderr, flush=True)

    def _announce(self, sync) -> None:
        link = getattr(sync, "permalink", None)
        if link and not self._announced:
            self._announced = True
            print(f"slacknb: the report is in Slack: {link}", file=self.err or sys.stderr, flush=True)
