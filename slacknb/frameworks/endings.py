"""How a run learns that it ended when its training framework does not say.

ppe 0.9 calls no extension hook when a ``KeyboardInterrupt`` stops training, nor
for an exception raised between iterations (the data loader, a handler), and a
hand-written loop never calls ``finalize`` after an error (see
:mod:`slacknb.frameworks.ppe`). Such an exception still ends somewhere visible:

* in IPython (a notebook, the terminal): the cell that raised it ends with it,
  and IPython's ``post_run_cell`` event carries it (``result.error_in_exec``);
* in a script: it reaches ``sys.excepthook`` before the interpreter exits;
* a process that exits with the run still open (the exception was caught, or
  ``sys.exit`` was called) is seen at ``atexit``.

An :class:`EndingWatch` listens at those places while its run is open. Only one
``sys.excepthook`` wrapper and one ``atexit`` function exist, whatever the number
of watches, and the hook is put back when the last watch stops (unless someone
replaced it since, in which case ours stays, chained and harmless).
"""

from __future__ import annotations

import atexit
import sys
import threading
import warnings
from typing import Callable

__all__ = ["EndingWatch"]

_lock = threading.Lock()
_watches: list["EndingWatch"] = []
_previous_hook = None
_atexit_registered = False


class EndingWatch:
    """Calls ``end(error)`` once, when the exception that ended the run surfaces.

    ``error`` is the exception that left the IPython cell or reached
    ``sys.excepthook`` (a ``KeyboardInterrupt`` included), or None when the
    process exits while the watch is still on. :meth:`stop` (the run ended the
    ordinary way) makes sure ``end`` is never called.
    """

    def __init__(self, end: Callable[[BaseException | None], None]):
        self._end = end
        self._shell = None
        self._on = False

    def start(self) -> "EndingWatch":
        global _previous_hook, _atexit_registered
        with _lock:
            if self._on:
                return self
            self._on = True
            _watches.append(self)
            self._shell = _ipython()
            if self._shell is not None:
                self._shell.events.register("post_run_cell", self._cell_ended)
            elif sys.excepthook is not _excepthook:
                _previous_hook = sys.excepthook
                sys.excepthook = _excepthook
            if not _atexit_registered:
                _atexit_registered = True
                atexit.register(_at_exit)
        return self

    def stop(self) -> None:
        global _previous_hook
        with _lock:
            if not self._on:
                return
            self._on = False
            _watches.remove(self)
            if self._shell is not None:
                try:
                    self._shell.events.unregister("post_run_cell", self._cell_ended)
                except ValueError:
                    pass
            if not _watches and sys.excepthook is _excepthook and _previous_hook is not None:
                sys.excepthook, _previous_hook = _previous_hook, None

    def _fire(self, error: BaseException | None) -> None:
        if not self._on:
            return
        self.stop()
        try:
            self._end(error)
        except Exception as exc:  # noqa: BLE001 - the user's own traceback must still be shown
            warnings.warn(f"slacknb: the end of the run was not reported ({type(exc).__name__}: {exc})",
                          RuntimeWarning)

    def _cell_ended(self, result) -> None:
        error = getattr(result, "error_in_exec", None)
        if error is not None:
            self._fire(error)


def _ipython():
    # Only when IPython runs this process: a script never pays for importing it.
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "events") else None


def _open_watches() -> list[EndingWatch]:
    with _lock:
        return list(_watches)


def _excepthook(kind, value, tb):
    previous = _previous_hook or sys.__excepthook__  # the last watch to stop forgets it
    for watch in _open_watches():
        watch._fire(value)
    previous(kind, value, tb)


def _at_exit() -> None:
    for watch in _open_watches():
        watch._fire(None)
