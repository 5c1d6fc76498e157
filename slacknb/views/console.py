"""The console view: the table PrintReport prints, for scripts and terminals."""

from __future__ import annotations

import sys
from typing import TextIO

from slacknb.core.table import RowFormat, format_header


class ConsoleView:
    """Writes the header once, then every new log row, as PrintReport does."""

    def __init__(self, out: TextIO | None = None):
        self.out = out
        self._printed = 0
        self._entries = None
        self._format = None

    def show(self) -> None:
        self._printed = 0

    def refresh(self, frame) -> None:
        out = self.out or sys.stdout
        log = frame.state.log
        if len(log) <= self._printed or not frame.entries:
            return
        if frame.entries != self._entries:
            # Columns appear as the log fills (entries=None): reprint the header.
            self._entries = frame.entries
            self._format = RowFormat(frame.entries)
            out.write(format_header(frame.entries) + "\n")
        for observation in log[self._printed:]:
            out.write(self._format(observation) + "\n")
        self._printed = len(log)
        if hasattr(out, "flush"):
            out.flush()
