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

A main thread inside one long C call (a collective waiting for a rank that died, under
a launcher that sends SIGKILL a second after SIGTERM) runs no Python handler until the
call returns. So the handler also has Python's wakeup fd (``signal.set_wakeup_fd``,
unless someone else's is set): a thread (``slacknb-signals``) reads the signal's number
there, and when the main thread has not taken the signal within :data:`STUCK_AFTER`
seconds, it ends the runs itself; the main thread's handler, if it ever runs, then only
waits for their delivery and hands over. A forked child (a data loader's worker) forgets
all of it: its signals are its own.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from typing import Callable

__all__ = ["DEFER_FOR", "MAX_WAIT", "SIGNALS", "STUCK_AFTER", "SignalWatch", "installed"]

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
MAX_WAIT = 20.0
DEFER_FOR = 2.0
STUCK_AFTER = 0.2
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
_ended: list["SignalWatch"] = []  # ended by the wakeup thread: the main thread's handler waits for them
_taken = {signum: threading.Event() for signum in SIGNALS}  # the main thread's handler got the signal
_wakeup: tuple[int, int] | None = None  # (read, write) ends of our wakeup fd's pipe, while set


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
    if _previous and _wakeup is None:
        _set_wakeup()


def _restore() -> None:
    for signum, previous in list(_previous.items()):
        if signal.getsignal(signum) is _on_signal:
            signal.signal(signum, previous)
        # Replaced by someone since: theirs stays (and may call ours, which then only hands over).
        del _previous[signum]
    _unset_wakeup()


def _on_signal(signum: int, frame) -> None:
    _taken[signum].set()
    if _in_own_work(frame) and _defer(signum):
        return
    _deferred.pop(signum, None)
    with _lock:
        watches = _take_watches()
        ended_elsewhere, _ended[:] = list(_ended), []
        # None: ours is not the installed handler (a handler installed since calls it): that
        # handler goes on after us and decides.
        previous = _previous.get(signum)
        _restore()
    _end_each(watches, signal.Signals(signum).name)
    _wait_for(watches + ended_elsewhere)
    if previous is not None:
        _hand_over(signum, previous, frame)


def _take_watches() -> list[SignalWatch]:
    """Every open watch, closed (under ``_lock``)."""
    watches, _watches[:] = list(_watches), []
    for watch in watches:
        watch._on = False
    return watches


def _end_each(watches: list[SignalWatch], name: str) -> None:
    for watch in watches:
        try:
            watch._end(name)
        except Exception as exc:  # noqa: BLE001 - the signal must still do what it did before
            warnings.warn(f"slacknb: the run was not reported as Terminated ({type(exc).__name__}: {exc})",
                          RuntimeWarning)


def _wait_for(watches: list[SignalWatch]) -> None:
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


def _set_wakeup() -> None:
    """Our pipe as Python's wakeup fd, read by the ``slacknb-signals`` thread (main thread only)."""
    global _wakeup
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except (ValueError, OSError):
        previous = None
    if previous != -1:  # someone else's (an asyncio loop's): theirs stays, and the main thread decides
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(read), os.close(write)
        return
    _wakeup = (read, write)
    threading.Thread(target=_read_wakeups, args=(read,), name="slacknb-signals", daemon=True).start()


def _unset_wakeup() -> None:
    global _wakeup
    if _wakeup is None:
        return
    read, write = _wakeup
    _wakeup = None
    current = signal.set_wakeup_fd(-1)
    if current not in (write, -1):
        signal.set_wakeup_fd(current)  # set by someone since: theirs stays
    os.close(write)  # the reading thread sees the end of the pipe, closes its end and ends


def _read_wakeups(read: int) -> None:
    try:
        while True:
            data = os.read(read, 64)
            if not data:
                return
            for signum in data:
                if signum in _taken and not _taken[signum].wait(STUCK_AFTER):
                    _end_stuck(signum)
                _taken.get(signum, threading.Event()).clear()
    finally:
        os.close(read)


def _end_stuck(signum: int) -> None:
    """The main thread did not take the signal in time (inside a long C call): end the runs here."""
    with _lock:
        watches = _take_watches()
        _ended.extend(watches)
    _end_each(watches, signal.Signals(signum).name)


def _forget_in_child() -> None:
    """After ``fork``: the child has no runs, and the parent's handlers and wakeup fd are not its own."""
    global _lock
    _lock = threading.Lock()  # it may have been held by another thread of the parent
    _watches.clear(), _ended.clear(), _deferred.clear()
    read = _wakeup[0] if _wakeup is not None else None
    try:
        _restore()
    except (ValueError, OSError):  # forked from a thread that cannot set handlers: ours only hands over
        _previous.clear()
    if read is not None:
        os.close(read)  # its reader is a thread of the parent


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


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
