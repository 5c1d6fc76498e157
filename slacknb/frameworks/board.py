"""One study board in this process: the thread that keeps the board's Slack message and view live.

A :class:`BoardLoop` runs while ``optimize`` runs in this process, and after it until the
board shows this process's last trials. Every ``tick`` it reads the study from the
storage (:func:`~slacknb.frameworks.study_read.read_study`) and then:

- if this process holds the board's lease (:mod:`slacknb.frameworks.lease`), it renders the
  whole board for its mirror, which edits the message at most every ``min_interval`` (the
  first holder posts it and records it in the study), and renews the lease with the
  newest version Slack is known to show;
- if not, and the lease is free or offered, it bids for it; in a notebook, it refreshes the view.

When ``optimize`` ends here (:meth:`BoardLoop.end`) the study's version is this process's
*debt*: it rests only once a lease record says the board shows that version or a newer one.
A holder whose optimize ended offers the lease and edits on until a successor takes it; with
no successor it renders once more, waits for that edit to be in Slack, then releases; a
process whose debt the board does not show yet takes the lease and renders itself. So a
stale render is never the last word: after the study's last trial ends, the board shows it.
"""

from __future__ import annotations

import threading
import warnings
from typing import Callable

from slacknb.core.board import BoardRenderer, BoardState
from slacknb.core.state import COMPLETED
from slacknb.frameworks.lease import Lease
from slacknb.frameworks.study_read import read_study
from slacknb.runtime.clock import Clock, as_clock
from slacknb.slack.state import MirrorState

__all__ = ["BoardLoop", "TICK"]

# How often the loop reads the storage (milliseconds a read): well under the edit interval.
TICK = 0.5
# Renders whose text may still turn out to be what Slack shows (mirrors keep only the newest).
_RENDERS_KEPT = 16


class BoardLoop:
    """The board's thread for one study in this process.

    ``make_mirror(adopt=, parent=)`` makes the mirror that posts the board (neither), edits the
    recorded one (``adopt=(channel, ts)``) or replies in its thread (``parent``); ``lease`` is None when the board is local
    only (no Slack); ``views`` a :class:`~slacknb.frameworks.board_views.BoardViews`.
    ``clock`` gives wall-clock seconds (``time()``) and waits.
    """

    def __init__(self, study, *, renderer: BoardRenderer, make_mirror: Callable, lease: Lease | None,
                 views, delivery_timeout: float = 120.0, clock: Clock | None = None, tick: float = TICK):
        self.study = study
        self.renderer = renderer
        self._make_mirror = make_mirror
        self.lease = lease
        self.views = views
        self.delivery_timeout = delivery_timeout
        self._clock = as_clock(clock)
        self.tick = tick
        self._cond = threading.Condition()
        self._active = 0
        self._started_at: float | None = None
        self._debt: int | None = None
        self._board: tuple | None = None
        self._mirror = None
        self._renders: dict[str, int] = {}
        self._shown = -1
        self._offered_at = 0.0
        self.ends: list = []  # the mirrors of this process's end messages
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dead = False  # the board's mirror stopped (a fault a person must fix): nobody waits for it
        self._warned = False

    # -- from SlackBoard (any thread) -----------------------------------------------------

    def begin(self) -> None:
        """An ``optimize`` starts in this process."""
        with self._cond:
            self._active += 1
            if self._started_at is None:
                self._started_at = self._clock.time()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="slacknb-board", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def read(self) -> BoardState:
        """The study as the storage has it now."""
        return read_study(self.study, now=self._clock.time())[0]

    def end(self) -> None:
        """An ``optimize`` ended here: the study's version now is the debt it leaves."""
        try:
            _, version = read_study(self.study, now=self._clock.time())
        except Exception as exc:  # noqa: BLE001 - the storage failed us: leave without a debt
            self._warn(exc)
            version = -1
        with self._cond:
            self._active = max(0, self._active - 1)
            if self.lease is not None:
                self._debt = version if self._debt is None else max(self._debt, version)
            self._cond.notify_all()

    def poke(self) -> None:
        """Something changed (a trial ended here): look at the storage now."""
        with self._cond:
            self._cond.notify_all()

    def board(self, timeout: float) -> tuple | None:
        """The board's ``(channel, ts)``, waiting up to ``timeout`` s for it to be posted; None if not."""
        with self._cond:
            if self.lease is not None:
                self._clock.wait(self._cond, lambda: self._board is not None or self._closed or self._dead, timeout)
            return self._board

    def end_message(self, text: str, *, outcome, label: str, elapsed: str) -> None:
        """This process's end of ``optimize`` in the board's thread: ``text``, then the reply that
        mentions the board's people (a new message, so it notifies), ``label`` naming the run."""
        board = self.board(0)
        if self.lease is None or board is None:
            return
        try:
            mirror = self._make_mirror(parent=board, label=label)
            self.ends.append(mirror)
            mirror.finish(text, outcome=outcome, elapsed=elapsed, alert=False, mention=True)
        except Exception as exc:  # noqa: BLE001 - never into the user's optimize
            self._warn(exc)

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until this process owes the board nothing; True when so."""
        deadline = self._clock.time() + timeout
        with self._cond:
            return self._clock.wait(self._cond, self._idle, max(0.0, deadline - self._clock.time()))

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self.lease is not None:
            self.lease.close()

    # -- the thread -------------------------------------------------------------------------

    def _idle(self) -> bool:
        return self._closed or (self._active == 0 and self._debt is None and self._mirror is None)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._clock.wait(self._cond, lambda: self._closed or not self._idle(), None)
                if self._closed:
                    return
            try:
                self._step()
            except Exception as exc:  # noqa: BLE001 - a storage or Slack hiccup: try again next tick
                self._warn(exc)
            with self._cond:
                self._cond.notify_all()  # wait_idle and board() look again
                if not self._idle():
                    self._clock.wait(self._cond, lambda: self._closed, self.tick)

    def _step(self) -> None:
        if self.lease is None:
            with self._cond:
                self._debt = None
        else:
            if self._board is None:
                self._look_for_board()
            if self._mirror is None:
                self._bid()
            if self._mirror is not None:
                self._hold(*read_study(self.study, now=self._clock.time()))
        if self.views:
            self._show(read_study(self.study, now=self._clock.time())[0], self._mirror)

    def _bid(self) -> None:
        record = self.lease.record()
        with self._cond:
            if self._debt is not None and record is not None and record.shown >= self._debt:
                self._debt = None
            wants = self._active > 0 or self._debt is not None
        if wants and (record is None or record.open(self._clock.time())) and self.lease.acquire(self._shown):
            self._look_for_board()  # recorded by the holder before it released
            mirror = self._make_mirror(adopt=self._board)
            with self._cond:
                self._mirror, self._renders = mirror, {}

    def _hold(self, state: BoardState, version: int) -> None:
        """This process holds the lease: render, hand over to the mirror, renew; leave when done here."""
        mirror = self._mirror
        if not mirror.enabled:
            with self._cond:
                self._dead = True  # it said why, once; the trials' reports stop waiting for the board
                self._cond.notify_all()
        self._learn_shown(mirror)
        if not self.lease.keep(self._shown):
            mirror.close()  # not ours any more: nothing queued may be sent
            with self._cond:
                self._mirror = None
            return
        budget = mirror.state.budget  # a smaller one Slack taught (msg_too_long): render within it
        budget = None if budget is None else max(256, min(self.renderer.max_bytes, budget))
        text = self.renderer.render(state, max_bytes=budget)
        with self._cond:
            leaving = self._active == 0
        if leaving and not self.lease.leaving:
            self.lease.offer(self._shown)
            self._offered_at = self._clock.time()
        elif not leaving and self.lease.leaving:
            self.lease.stay(self._shown)
        if not leaving or self._clock.time() - self._offered_at < self.lease.settle or self.lease.bidders():
            mirror.update(text)  # edits on until a successor took the lease over (keep() above)
            self._remember(text, version)
            self._record_board(mirror)
            return
        # optimize ended here and nobody takes over: one final edit, in Slack before the lease goes.
        mirror.finish(text, outcome=COMPLETED, elapsed="", alert=False, mention=False)
        self._remember(text, version)
        deadline = self._clock.time() + self.delivery_timeout
        while not mirror.wait_delivered(min(self.lease.renew, self.tick * 4)) and self._clock.time() < deadline:
            if not self.lease.keep(self._shown):
                break
            self._record_board(mirror)
        self._learn_shown(mirror)
        self._record_board(mirror)
        self.lease.release(self._shown)
        with self._cond:
            self._mirror = None
            # Rendered after this process's end: the debt is paid (the mirror tells what did not arrive).
            self._debt = None

    def _remember(self, text: str, version: int) -> None:
        self._renders[text] = version
        while len(self._renders) > _RENDERS_KEPT:
            del self._renders[next(iter(self._renders))]

    def _learn_shown(self, mirror) -> None:
        sent = mirror.state.sent_text
        if sent is not None and sent in self._renders:
            self._shown = max(self._shown, self._renders[sent])

    def _record_board(self, mirror) -> None:
        sync = mirror.state
        if self._board is None and sync.ts and sync.channel_id:
            self.lease.record_board(sync.channel_id, sync.ts)
            self._found((sync.channel_id, sync.ts))

    def _look_for_board(self) -> None:
        self._found(self.lease.board())

    def _found(self, board) -> None:
        if board is not None:
            with self._cond:
                self._board = board
                self._cond.notify_all()

    # -- the views --------------------------------------------------------------------------

    def _sync(self, mirror=None) -> MirrorState:
        """Where Slack stands for the views: this process's mirror, else who edits the board."""
        if mirror is not None:
            return mirror.state
        if self.lease is None:
            return MirrorState("local", "the board stays here (no Slack token or channel)")
        channel, ts = self._board or (None, None)
        return MirrorState("synced", "another process of the study edits the board", channel_id=channel, ts=ts)

    def _elapsed(self) -> float:
        with self._cond:
            started = self._started_at
        return 0.0 if started is None else max(0.0, self._clock.time() - started)

    def _show(self, state: BoardState, mirror) -> None:
        with self._cond:
            running = self._active > 0
        self.views.refresh(state, self._sync(mirror), running=running, elapsed=self._elapsed())

    def finish_views(self, state: BoardState, *, failed: bool) -> None:
        """The end of an ``optimize`` here: the views show the final board (the caller's thread)."""
        self.views.finish(state, self._sync(self._mirror), failed=failed, elapsed=self._elapsed())

    def frame(self, state: BoardState):
        """``state`` as the views show it now."""
        with self._cond:
            running = self._active > 0
        return self.views.frame(state, self._sync(self._mirror), running=running, elapsed=self._elapsed())

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(f"slacknb: the study board skipped a beat ({type(exc).__name__}: {exc}); "
                          "it tries again", RuntimeWarning)

