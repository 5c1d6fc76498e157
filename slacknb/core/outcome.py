"""How a run ends (:class:`Ending`), and what its state needs computed from plain numbers and
exceptions: ETA, error line, traceback tail."""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from slacknb.core.state import Status

__all__ = ["Ending", "TRACEBACK_LINES", "error_line", "eta", "traceback_tail"]

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


@dataclass(frozen=True)
class Ending:
    """How a run ended, as the framework or the cell saw it: the one value a run is finished with.

    ``status`` is the final status (Completed, Failed, Interrupted; Completed after a Stop
    click reads Stopped); ``error`` the exception that ended it (kept for a Failed run's alert);
    ``console_tail`` the console's last lines; ``alert`` False when this ending was already
    alerted by another report (a trainer inside a reported cell); ``cause`` the signal that
    ended a Terminated run (``"SIGTERM"``).
    """

    status: Status
    error: BaseException | None = None
    console_tail: str | None = None
    alert: bool = True
    cause: str = ""
