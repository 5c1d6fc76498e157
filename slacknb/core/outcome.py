"""What a run's state needs computed from plain numbers and exceptions: ETA, error line, traceback tail."""

from __future__ import annotations

import traceback

__all__ = ["TRACEBACK_LINES", "error_line", "eta", "traceback_tail"]

TRACEBACK_LINES = 20


def eta(elapsed: float, progress: float | None) -> float | None:
    if not progress or progress <= 0 or elapsed <= 0:
        return None
    return elapsed * (1 - min(progress, 1.0)) / progress


def error_line(error: BaseException | None) -> str | None:
    if error is None:
        return None
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def traceback_tail(error: BaseException | None) -> str | None:
    if error is None or error.__traceback__ is None:
        return None
    lines = "".join(traceback.format_exception(type(error), error, error.__traceback__)).splitlines()
    return "\n".join(lines[-TRACEBACK_LINES:])
