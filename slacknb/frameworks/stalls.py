"""The stall watch: a run whose iterations stopped coming says Stalled, and where it waits.

A stall is exactly when the training thread does not run, so the watch cannot live
there: ONE thread per process (``slacknb-stall-watch``, a :class:`~slacknb.runtime.worker.Worker`)
samples every open run's iteration count (an attribute read: the training thread does
nothing more per iteration) about once a second, and feeds it to :func:`slacknb.core.stall.step`. When
that says Stalled, the run's status reads Stalled (an edit), and one thread reply
notifies the ``finish_mentions`` people, with the innermost frames of the training
thread's stack (``sys._current_frames()``, read here, formatted by
:func:`slacknb.core.stall.where_text`). When iterations come back, the status is what
it was before and the reply is edited to say how long the stall lasted. The thread
ends when the last watch stops.
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import Callable

from slacknb.core import stall
from slacknb.core.state import STALLED
from slacknb.runtime.clock import SYSTEM, Clock
from slacknb.runtime.worker import STOP, Worker

__all__ = ["StallWatch", "stack_of"]

_PERIOD = 1.0  # seconds between two samples (less with a short stall_after)

_lock = threading.Lock()
_watches: list["StallWatch"] = []
_worker: Worker | None = None  # the one watch thread, while a watch is open


class StallWatch:
    """Watches one run: ``iteration()`` reads its iteration count (from the watch's thread).

    ``stall_after`` is the option (None: automatic; 0: :meth:`start` does nothing).
    ``thread`` is the training thread's id (default: the thread that calls :meth:`start`).
    :meth:`poll` takes one sample; the watch thread calls it, tests call it on a fake ``clock``.
    """

    def __init__(self, run, iteration: Callable[[], int | None], *, stall_after: float | None,
                 clock: Clock = SYSTEM, frames: Callable[[], dict] = sys._current_frames):
        self.run = run
        self._iteration = iteration
        self.stall_after = stall_after
        self._clock = clock
        self._frames = frames
        self._thread_id: int | None = None
        self._state: stall.StallState | None = None
        self._stalled: stall.Stalled | None = None
        self.where = ""  # the training thread's stack when the last stall was noticed (where_text)
        self._before = None  # the status a stall replaced
        self.stalls = 0
        self._on = False
        self._told_fault = False
        self._lock = threading.Lock()  # the watch thread samples; the training thread stops

    @property
    def period(self) -> float:
        return _PERIOD if not self.stall_after else min(_PERIOD, max(0.05, self.stall_after / 4))

    def start(self, *, thread: int | None = None, background: bool = True) -> "StallWatch":
        """Begin watching (now is the start of the run); ``background=False``: no thread, :meth:`poll` by hand."""
        if self.stall_after == 0 or self._on:
            return self
        self._thread_id = threading.get_ident() if thread is None else thread
        self._state = stall.StallState(self._read(), self._clock.now(), self._clock.time())
        self._on = True
        if background:
            _add(self)
        return self

    def stop(self) -> None:
        """Stop watching (the run ends). A stall whose iterations came back since the last
        sample is told first (the run may end sooner than the next sample); nothing is marked
        or replied after this returns."""
        with self._lock:
            if self._on and self._state is not None and self._state.stalled:
                self._sample(resume_only=True)
            self._on = False
        _remove(self)

    def poll(self) -> None:
        """One sample: mark and reply when the run stalled or resumed. Never raises."""
        with self._lock:
            self._sample()

    def _sample(self, *, resume_only: bool = False) -> None:
        if not self._on or self.run.finished:
            return
        try:
            state, event = stall.step(self._state, self._read(), now=self._clock.now(), wall=self._clock.time(),
                                      stall_after=self.stall_after)
            if isinstance(event, stall.Stalled) and not resume_only:
                self._state = state
                self._stall(event)
            elif isinstance(event, stall.Resumed):
                self._state = state
                self._resume(event)
            elif event is None:
                self._state = state
        except Exception as exc:  # noqa: BLE001 - a watch is never worth a lost run
            self._on = False
            _remove(self)
            warnings.warn(f"slacknb: the stall watch stopped ({type(exc).__name__}: {exc}); training goes on",
                          RuntimeWarning)

    def _read(self) -> int | None:
        value = self._iteration()
        return value if isinstance(value, int) else None

    def _key(self) -> str:
        return f"stall-{self.stalls}"

    def _stall(self, event: stall.Stalled) -> None:
        self.stalls += 1
        self._stalled = event
        self.where = stall.where_text(stack_of(self._frames(), self._thread_id))
        self._before = self.run.state.status
        self.run.mark(STALLED)
        self._tell("reply", stall.stall_reply(event, self.where, mentions=self.run.mirror.mention_slot))

    def _resume(self, event: stall.Resumed) -> None:
        if self.run.state.status == STALLED:
            self.run.mark(self._before)
        self._tell("edit_reply", stall.resumed_reply(event, self._stalled, self.where))

    def _tell(self, verb: str, text: str) -> None:
        """The stall's thread reply (``reply``, then ``edit_reply``): a stall is trouble, told to
        those who want to hear about failures. A fault here never stops the watch."""
        if self.run.alert not in ("failed", "all") or not self.run.mirror.owns_message:
            return
        try:
            getattr(self.run.mirror, verb)(self._key(), text)
        except Exception as exc:  # noqa: BLE001 - the status still tells
            if not self._told_fault:
                self._told_fault = True
                warnings.warn(f"slacknb: the stall reply was not sent ({type(exc).__name__}: {exc})", RuntimeWarning)


def stack_of(frames: dict, thread_id: int | None) -> list[tuple[str, int, str]]:
    """The stack of thread ``thread_id`` in ``frames`` (``sys._current_frames()``), innermost
    first, as (filename, line, function); [] when the thread is gone."""
    frame = frames.get(thread_id)
    stack = []
    while frame is not None:
        stack.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return stack


def _add(watch: StallWatch) -> None:
    global _worker
    with _lock:
        _watches.append(watch)
        if _worker is None:
            _worker = Worker(_sample_all, clock=SYSTEM, name="slacknb-stall-watch")
        worker = _worker
    worker.wake()


def _remove(watch: StallWatch) -> None:
    with _lock:
        if watch in _watches:
            _watches.remove(watch)


def _sample_all() -> float:
    """The watch thread's step: one sample of every open watch; the thread ends with the last."""
    global _worker
    with _lock:
        if not _watches:
            _worker = None
            return STOP
        watches = list(_watches)
    for watch in watches:
        watch.poll()
    return min(watch.period for watch in watches)
