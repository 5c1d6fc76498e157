"""What a trial's ``SlackReport(..., trial=trial)`` shares with its study's board.

- Where it goes: a reply in the board's thread, edited in place. The first trials start
  with the study, before the board is posted, so the report waits up to
  :data:`BOARD_WAIT` seconds at construction for it (the board of this process, else the
  study's record, as another process left it); without it, it is a message of its own.
- What the board learns: the report's newest log row, under the trial's user attribute
  (:data:`~slacknb.frameworks.study_read.PROGRESS_KEY`), for trials that do not
  ``trial.report()`` themselves.
- How it ends: an ``optuna.TrialPruned`` raised inside the training reads Pruned; a training
  that completes is held open until Optuna has decided (the objective may still prune or
  fail the trial after its training): the board's callback ends it with the trial's state.
"""

from __future__ import annotations

import time
import warnings

from slacknb.core.state import PRUNED
from slacknb.frameworks.lease import BOARD_KEY
from slacknb.frameworks.optuna import board_for, optuna
from slacknb.frameworks.study_read import PROGRESS_KEY, progress_of

__all__ = ["BOARD_WAIT", "TrialLink", "trial_link"]

# Seconds a trial's report waits at construction for the board's message to exist.
BOARD_WAIT = 10.0


class TrialLink:
    """What a trial's ``SlackReport`` shares with its study's board.

    ``parent``: the board's ``(channel, ts)`` (None: a message of its own);
    :meth:`publish` writes the newest log row for the board; :meth:`ending` reads a
    ``TrialPruned`` as Pruned; :meth:`hold` keeps a completed training's report open
    until the trial's state is known (``end_held(status)`` then ends it).
    """

    def __init__(self, trial, *, wait: float = BOARD_WAIT):
        self.trial = trial
        self.number = trial.number
        self.study_name = trial.study.study_name
        self._board = board_for(self.study_name)
        self._published = None
        self._warned = False
        self.parent = self._find_parent(wait)

    @property
    def label(self) -> str:
        return f"{self.study_name} trial {self.number}"

    def _find_parent(self, wait: float):
        if self._board is not None:
            return self._board._loop.board(wait)
        deadline = time.monotonic() + wait
        while True:  # no board in this process: the study's record, as another process left it
            raw = self.trial.study.user_attrs.get(BOARD_KEY)
            if isinstance(raw, dict) and raw.get("channel") and raw.get("ts"):
                return str(raw["channel"]), str(raw["ts"])
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def publish(self, log, entries) -> None:
        """The report's newest row, for the board (once per new row; never raises)."""
        if not log:
            return
        progress = progress_of(log[-1], entries, len(log))
        if progress is None or progress == self._published:
            return
        self._published = progress
        try:
            self.trial.set_user_attr(PROGRESS_KEY, progress)
        except Exception as exc:  # noqa: BLE001 - a storage hiccup must not stop training
            if not self._warned:
                self._warned = True
                warnings.warn(f"slacknb: trial {self.number}'s progress did not reach the study's storage "
                              f"({type(exc).__name__}: {exc})", RuntimeWarning)
        if self._board is not None:
            self._board._loop.poke()

    @staticmethod
    def ending(status, error):
        """``(status, error)`` of a trial's training: ``optuna.TrialPruned`` reads Pruned, without an error."""
        if isinstance(error, optuna.TrialPruned):
            return PRUNED, None
        return status, error

    def track(self, report) -> None:
        """``report`` is this trial's: the board's :meth:`~SlackBoard.wait_idle` waits for it too."""
        if self._board is not None:
            self._board._track(report)

    def hold(self, report) -> bool:
        """Hold ``report`` (its training completed) until this process's board learns the trial's
        state; False when no board here will tell (then the report ends now)."""
        return self._board is not None and self._board._hold(self.number, report)


def trial_link(trial) -> TrialLink:
    """The link between a trial's report and its study's board (waits for the board: see :data:`BOARD_WAIT`)."""
    return TrialLink(trial)
