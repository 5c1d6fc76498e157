"""SIGTERM and SIGHUP end the open runs as Terminated; then the signal does what it did before.

A job cancelled or preempted on a cluster (SLURM sends SIGTERM, then SIGKILL after its
grace period), ``timeout``, ``docker stop``, a Kubernetes eviction, torchrun's agent ending
the other ranks after one failed: each sends SIGTERM; a closed terminal sends SIGHUP.
Without a handler the process dies at once and its message reads "Training" for ever.

While at least one :class:`SignalWatch` is open, ONE process-wide handler per signal
is installed (only from the main thread: Python runs handlers there, and only there may
they be installed). On the signal it:

1. ends every open run as Terminated (``end(name)``: the final edit, the alert, the
   mention reply are handed to each run's Slack worker at once);
2. waits for each run's end to reach Slack (``wait(timeout)``), at most the runs'
   ``bound`` and never more than :data:`MAX_WAIT` seconds in all (SLURM's default grace
   before SIGKILL is 30 s);
3. hands the signal over to the handler that was there before (put back already in
   step 1, so a second signal meanwhile is not delayed): a Python handler (the
   script's, a library's) is called and decides what happens next; the default ends
   the process as the signal would have (exit status 128 + the signal's number, 143
   for SIGTERM). A signal that was ignored (``nohup``'s SIGHUP) or whose handler was
   not installed from Python is left alone: slacknb never installs over it.

Handlers run between two bytecodes of the main thread, wherever it is. When it was
interrupted in slacknb's own work (a lock may be held there), the run is not ended
from inside it: the signal is sent to the main thread again a moment later, until it
is out (at most :data:`DEFER_FOR` seconds).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from typing import Callable

__all__ = ["DEFER_FOR", "MAX_WAIT", "SIGNALS", "SignalWatch", "installed"]

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
MAX_WAIT = 20.0
DEFER_FOR = 2.0
_PAUSE = 0.02
# slacknb's modules whose frames run the user's code (the training, a cell, a trigger):
# the training interrupted there is not in slacknb's own work. Every other slacknb
# frame may hold one of slacknb's locks (a report, a print into the console tail).
_CALLS_OUT = frozenset({"slacknb.frameworks.chainer", "slacknb.frameworks.ppe", "slacknb.frameworks.patching",
                        "slacknb.frameworks.cell_patches", "slacknb.frameworks.chainer_patch",
                        "slacknb.frameworks.ppe_patch", "slacknb.notebook.cell", "slacknb.notebook.magic"})

_lock = threading.Lock()
_watches: list["SignalWatch"] = []
_previous: dict[int, object] = {}  # signal -> the handler ours replaced (while ours is installed)


class SignalWatch:
    """Ends one run as Terminated when SIGTERM or SIGHUP arrives while it is open.

    ``end(name)`` finishes the run (``name`` is ``"SIGTERM"`` or ``"SIGHUP"``);
    ``wait(timeout)`` waits up to ``timeout`` seconds for its end to be in Slack;
    ``bound`` is how long this run's end may be waited for (its ``delivery_timeout``).
    """

    def __init__(self, end: Callable[[str], object], wait: Callable[[float], object], *, bound: float):
        self._end = end
        self._wait = wait
        self._bound = bound
        self._on = False

    def start(self) -> "SignalWatch":
        with _lock:
            if not self._on:
                self._on = True
                _watches.append(self)
                if threading.current_thread() is threading.main_thread():
                    _install()
        return self

    def stop(self) -> None:
        with _lock:
            if not self._on:
                return
            self._on = False
            _watches.remove(self)
            if not _watches and threading.current_thread() is threading.main_thread():
                _restore()


def installed() -> tuple[int, ...]:
    """The signals slacknb's handler is installed for now (for tests and diagnostics)."""
    return tuple(signum for signum in SIGNALS if signal.getsignal(signum) is _on_signal)


def _install() -> None:
    for signum in SIGNALS:
        current = signal.getsignal(signum)
        if current is _on_signal or current is None or current == signal.SIG_IGN:
            continue  # ours already; or not ours to replace (ignored, or set outside Python)
        _previous[signum] = current
        signal.signal(signum, _on_signal)


def _restore() -> None:
    for signum, previous in list(_previous.items()):
        if signal.getsignal(signum) is _on_signal:
            signal.signal(signum, previous)
        # Replaced by someone since: theirs stays (and may call ours, which then only hands over).
        del _previous[signum]


def _on_signal(signum: int, frame) -> None:
    if _in_own_work(frame) and _defer(signum):
        return
    _deferred.pop(signum, None)
    with _lock:
        watches, _watches[:] = list(_watches), []
        for watch in watches:
            watch._on = False
        previous = _previous.get(signum, signal.SIG_DFL)
        _restore()
    _end_all(watches, signal.Signals(signum).name)
    _hand_over(signum, previous, frame)


def _end_all(watches: list[SignalWatch], name: str) -> None:
    for watch in watches:
        try:
            watch._end(name)
        except Exception as exc:  # noqa: BLE001 - the signal must still do what it did before
            warnings.warn(f"slacknb: the run was not reported as Terminated ({type(exc).__name__}: {exc})",
                          RuntimeWarning)
    if not watches:
        return
    deadline = time.monotonic() + min(MAX_WAIT, max(watch._bound for watch in watches))
    for watch in watches:
        try:
            watch._wait(max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - waiting is a courtesy; the hand-over is not
            pass


def _hand_over(signum: int, previous, frame) -> None:
    if callable(previous):
        previous(signum, frame)  # the script's own decision (it may raise SystemExit: let it)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # ends the process as the signal would have


def _in_own_work(frame) -> bool:
    """True when the innermost slacknb frame of the interrupted stack is slacknb's own work."""
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if name == "slacknb" or name.startswith("slacknb."):
            return name not in _CALLS_OUT
        frame = frame.f_back
    return False


_deferred: dict[int, float] = {}  # signal -> when it first arrived in slacknb's own work


def _defer(signum: int) -> bool:
    """Send ``signum`` to the main thread again shortly; False once it was deferred long enough."""
    first = _deferred.setdefault(signum, time.monotonic())
    if time.monotonic() - first > DEFER_FOR:
        del _deferred[signum]
        return False  # a long wait rather than a short critical section: end the runs now
    main = threading.main_thread().ident
    timer = threading.Timer(_PAUSE, signal.pthread_kill, args=(main, signum))
    timer.daemon = True
    timer.start()
    return True
