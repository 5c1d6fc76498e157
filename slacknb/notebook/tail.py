"""The last lines a cell printed, kept for the failure alert.

:class:`ConsoleTail` tees ``sys.stdout`` and ``sys.stderr`` while a cell runs:
everything still reaches the real streams unchanged, and a bounded copy of the
end is kept. The bound is on both lines and characters, so a cell that prints
gigabytes (or one endless line) costs a few kilobytes.

Only the copy is cleaned up for Slack: ANSI escape sequences (colours, the
cursor moves of Chainer's ``ProgressBar``) are dropped and a carriage return
keeps what a terminal would show, the text after it.
"""

from __future__ import annotations

import collections
import re
import sys
import threading

__all__ = ["ConsoleTail", "MAX_CHARS", "MAX_LINES", "TailBuffer", "TeeStream"]

MAX_LINES = 50
MAX_CHARS = 4096
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


class TailBuffer:
    """The end of a text stream: at most ``max_lines`` lines and ``max_chars`` characters.

    Thread-safe: training threads and the cell's thread may print at once.
    """

    def __init__(self, *, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS):
        if max_lines < 1 or max_chars < 1:
            raise ValueError("max_lines and max_chars must be at least 1")
        self.max_lines = max_lines
        self.max_chars = max_chars
        self._lines: collections.deque[str] = collections.deque()
        self._chars = 0  # characters in _lines, newlines not included
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        """Add ``text`` (any chunk: several lines, part of one, or nothing)."""
        if not text:
            return
        with self._lock:
            pieces = (self._partial + text).split("\n")
            self._partial = _visible_partial(pieces.pop())[-self.max_chars:]
            # Only the newest lines can survive: skip formatting the rest.
            for line in pieces[-self.max_lines:]:
                line = _visible(line)[-self.max_chars:]
                self._lines.append(line)
                self._chars += len(line)
            self._trim()

    def text(self) -> str:
        """The kept lines, oldest first, the unfinished last line included."""
        with self._lock:
            lines = list(self._lines)
            if self._partial.rstrip("\r"):
                lines.append(self._partial.rstrip("\r"))
        return "\n".join(lines)

    def _trim(self) -> None:
        partial = len(self._partial.rstrip("\r"))
        lines = self._lines
        # What text() returns: the lines and the partial one, joined by newlines.
        while lines and (len(lines) + bool(partial) > self.max_lines
                         or self._chars + partial + len(lines) - (not partial) > self.max_chars):
            self._chars -= len(lines.popleft())


def _visible(line: str) -> str:
    """What a terminal shows of one line: no escape sequences, the text after the last \\r."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\r" in line:
        line = line.rstrip("\r").rsplit("\r", 1)[-1]  # a Windows line end is not a redraw
    return line


def _visible_partial(line: str) -> str:
    """Like :func:`_visible` for the unfinished last line, keeping a trailing \\r.

    ``"10%\\r"`` still shows "10%" until the next write redraws the line, and the
    next write must know that it does.
    """
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if line.endswith("\r"):
        return _visible(line) + "\r"
    return line.rsplit("\r", 1)[-1]


class TeeStream:
    """Writes through to ``stream`` unchanged and copies the text into ``tail``.

    Every other attribute (``fileno``, ``isatty``, ``encoding``, ipykernel's own)
    is the wrapped stream's, so code that inspects ``sys.stdout`` sees no change.
    """

    def __init__(self, stream, tail: TailBuffer):
        self._stream = stream
        self._tail = tail

    def write(self, text):
        result = self._stream.write(text)
        try:
            self._tail.write(text if isinstance(text, str) else str(text))
        except Exception:  # noqa: BLE001 - the copy must never break printing
            pass
        return result

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class ConsoleTail:
    """Tees ``sys.stdout`` and ``sys.stderr`` into one :class:`TailBuffer` inside a with-block.

    On exit each stream is put back exactly as it was, unless the cell replaced
    it meanwhile (then the cell's choice stands). ``text()`` stays readable after
    the block, for an alert sent once the cell has ended.
    """

    def __init__(self, *, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS):
        self.buffer = TailBuffer(max_lines=max_lines, max_chars=max_chars)
        self._saved: dict[str, object] = {}
        self._tees: dict[str, TeeStream] = {}

    def text(self) -> str:
        """The last console lines (at most ``max_lines`` / ``max_chars``)."""
        return self.buffer.text()

    def __enter__(self) -> "ConsoleTail":
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is None:  # pythonw and some embedders have no console at all
                continue
            self._saved[name] = stream
            self._tees[name] = TeeStream(stream, self.buffer)
            setattr(sys, name, self._tees[name])
        return self

    def __exit__(self, *exc_info) -> None:
        for name, tee in self._tees.items():
            if getattr(sys, name) is tee:
                setattr(sys, name, self._saved[name])
        self._tees.clear()
        self._saved.clear()
