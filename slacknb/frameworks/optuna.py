"""``slacknb.optuna.SlackBoard``: an Optuna study on ONE live Slack board, its trials' reports in its thread.

::

    study = optuna.create_study(study_name="lr-search", storage=storage, load_if_exists=True)
    board = SlackBoard(study, finish_mentions="@alice")
    study.optimize(objective, n_trials=50, callbacks=[board])   # objective: SlackReport(..., trial=trial)

The parts:

- The board is one message per study, rendered from the storage by whichever process
  holds the board's lease (:mod:`slacknb.frameworks.lease`: the protocol, its rule and its
  failure cases); its channel and ts are a study attribute, so every process that shares
  the storage edits the same message (:mod:`slacknb.frameworks.board`: the loop).
- A trial's ``SlackReport(..., trial=trial)`` is a reply in the board's thread, edited in
  place (:mod:`slacknb.frameworks.trial_link`); a completed training's report is held open
  until this callback says how the trial ended.
- The end of ``optimize``: Optuna has no hook for it (it just returns), and a callback
  cannot tell the last trial (``n_trials``, ``timeout``, ``study.stop()``, an exception). So
  ``SlackBoard`` wraps ``optimize`` on the study object it is given (an attribute of that
  object; the class is untouched): when the call returns or raises, a line in the board's
  thread says how it ended here, then one reply mentions ``finish_mentions`` with the best
  trial so far (the end of a run's reply, from a mirror whose message is that line: a new
  message, so it notifies, delivered before the process exits), and this process sees to it
  that the board shows its trials' final states. The wrapper also adds the board
  to the callbacks when they lack it. Optimizing another object of the same study (from
  ``load_study``) with the board as a callback also works; its end is then the process's exit.
"""

from __future__ import annotations

import atexit
import contextvars
import dataclasses
import functools
import sys
import threading
import time
import uuid
import warnings
import weakref

from slacknb.core.board import BoardRenderer, best_label, end_reply
from slacknb.core.render import format_hms
from slacknb.core.context import RunContext
from slacknb.core.outcome import error_line
from slacknb.core.state import COMPLETED, FAILED, PRUNED
from slacknb.frameworks.board import BoardLoop
from slacknb.frameworks.board_views import BoardViews
from slacknb.frameworks.common import ending_status, framework_missing
from slacknb.frameworks.lease import Lease
from slacknb.options import check_board, slack_configured
from slacknb.slack.mirror import SlackMirror
from slacknb.slack.pacing import BOARD_INTERVAL

try:
    import optuna
except ImportError as exc:
    raise framework_missing("slacknb.optuna.SlackBoard", "optuna", "optuna", exc) from exc

__all__ = ["BOARD_INTERVAL", "SlackBoard", "board_for", "current_trial", "has_board"]

# The board of each study optimized in this process, by study name (for the trials' reports).
_boards: "weakref.WeakValueDictionary[str, SlackBoard]" = weakref.WeakValueDictionary()
_trial: contextvars.ContextVar = contextvars.ContextVar("slacknb_trial", default=None)


def board_for(study_name: str) -> "SlackBoard | None":
    """The board of ``study_name`` in this process, if one was made."""
    return _boards.get(study_name)


def has_board(study) -> bool:
    """True when ``study`` (this object) is optimized on a board: its ``optimize`` is a board's."""
    return getattr(vars(study).get("optimize"), "slacknb_board", None) is not None


def current_trial():
    """The trial whose objective runs on this thread under a board's ``optimize`` (else None)."""
    return _trial.get()


class SlackBoard:
    """One live Slack board for an Optuna study, and an Optuna callback (``callbacks=[board]``).

    ``access_token`` and ``channel_id`` as :class:`slacknb.SlackReport`'s (else the
    environment); the other options that apply to a board are keywords, checked here
    (:data:`slacknb.options.BOARD_OPTIONS`): ``finish_mentions``, ``max_bytes``,
    ``min_interval`` (default :data:`BOARD_INTERVAL`), ``base_url``, ``label`` (default the
    study's name), ``alert_prefix``, ``local``, ``delivery_timeout``. ``views``: the local
    views (None: the notebook widget in a kernel, none elsewhere). Posts nothing until
    ``optimize`` starts.
    """

    def __init__(self, study, access_token=None, channel_id=None, *, views=None, **options):
        if not isinstance(study, optuna.Study):
            raise TypeError("SlackBoard(study, ...): study must be an optuna.Study (optuna.create_study or "
                            f"optuna.load_study), not {type(study).__name__}")
        self.options = check_board(access_token=access_token, channel_id=channel_id, **options)
        self.study = study
        self.label = study.study_name if self.options.label is None else self.options.label
        lease = None
        if slack_configured(self.options):
            lease = Lease(lambda: study.user_attrs, study.set_user_attr, me=uuid.uuid4().hex)
        interval = BOARD_INTERVAL if self.options.min_interval is None else self.options.min_interval
        self._settings = dataclasses.replace(self.options.slack, min_interval=interval)
        # The board's edits name nobody (the end message does): no look-ups for its mirrors.
        self._edit_settings = dataclasses.replace(self._settings, mentions=())
        renderer = BoardRenderer(max_bytes=self.options.max_bytes)
        self._loop = BoardLoop(study, renderer=renderer, make_mirror=self._make_mirror, lease=lease,
                               views=BoardViews(views, renderer),
                               delivery_timeout=self.options.delivery_timeout)
        self._lock = threading.Lock()
        self._held: dict[int, object] = {}  # trial number -> its report, held until the trial's state is known
        self._reports: list = []  # every trial's report made in this process
        self._runs = 0  # optimize calls running here
        self._trials = 0  # trials run here in the current optimize calls
        self._began_at = time.monotonic()  # when they began
        self._begun_by_callback = False
        _boards[study.study_name] = self
        _wrap_optimize(study, self)
        atexit.register(self._at_exit)

    # -- what users and tests read --------------------------------------------------------
    @property
    def thread(self) -> tuple | None:
        """The board message's ``(channel, ts)`` once it is known here, else None."""
        return self._loop.board(0)

    @property
    def text(self) -> str:
        """The board as Slack gets it, rendered from the storage now."""
        return self._loop.renderer.render(self._loop.read())

    @classmethod
    def of(cls, study) -> "SlackBoard | None":
        """The board of ``study`` in this process (yours, or the one ``%%slackreport`` gave it), if any."""
        return board_for(study.study_name)

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Wait until this process owes the board nothing (after ``optimize``): the board shows every
        trial it ran, and its trials' reports and its end messages are in Slack; True when so."""
        deadline = time.monotonic() + timeout
        done = self._loop.wait_idle(timeout)
        with self._lock:
            mirrors = list(self._loop.ends) + [report._run.mirror for report in self._reports if report._run.finished]
        for mirror in mirrors:
            if mirror.enabled:
                done = mirror.wait_delivered(max(0.0, deadline - time.monotonic()), essential=True) and done
        return done

    def _repr_mimebundle_(self, include=None, exclude=None):
        from slacknb.views.notebook import mimebundle

        return mimebundle(self._loop.frame(self._loop.read()))

    def __repr__(self) -> str:
        return f"<SlackBoard study={self.study.study_name!r} thread={self.thread}>"

    # -- Optuna's callback ----------------------------------------------------------------
    def __call__(self, study, trial) -> None:
        """After each trial that ran here: its held report ends with the trial's state; the board looks now."""
        with self._lock:
            report = self._held.pop(trial.number, None)
            begin = self._runs == 0 and not self._begun_by_callback
            if begin:
                self._begun_by_callback = True  # optimize of another object of this study: ends at exit
        if begin:
            self._loop.begin()
        if report is not None:
            report.end_held({"PRUNED": PRUNED, "FAIL": FAILED}.get(trial.state.name, COMPLETED))
        self._loop.poke()

    # -- the optimize wrapper's two ends -------------------------------------------------------
    def _begin(self) -> None:
        with self._lock:
            if self._runs == 0:
                self._began_at = time.monotonic()
            self._runs += 1
        self._loop.begin()

    def _count_trial(self) -> None:
        with self._lock:
            self._trials += 1

    def _end(self, error: BaseException | None) -> None:
        with self._lock:
            self._runs = max(0, self._runs - 1)
            last = self._runs == 0
            trials, held, began = self._trials, [], self._began_at
            if last:
                self._trials, held, self._held = 0, list(self._held.values()), {}
        for report in held:  # their trials ended without this callback (it was not called)
            report.end_held(COMPLETED)
        try:
            state = self._loop.read()
            line = error_line(error) if error is not None and not isinstance(error, KeyboardInterrupt) else ""
            if isinstance(error, KeyboardInterrupt):
                line = "interrupted"
            host = RunContext.detect().hostname
            text = end_reply(state, host=host, trials_here=trials, error=line, label=self.label,
                             prefix=self.options.slack.alert_prefix)
            self._loop.end_message(text, outcome=ending_status(error), label=best_label(state, self.label),
                                   elapsed=format_hms(time.monotonic() - began))
        except Exception as exc:  # noqa: BLE001 - the user's optimize ends as it would without us
            state = None
            warnings.warn(f"slacknb: the end of optimize was not reported ({type(exc).__name__}: {exc})",
                          RuntimeWarning, stacklevel=3)
        self._loop.end()
        if self._loop.views and state is not None:
            self._loop.finish_views(state, failed=error is not None)

    def _at_exit(self) -> None:
        with self._lock:
            begun, self._begun_by_callback = self._begun_by_callback, False
        if begun:
            self._end(None)
        if not self._loop.wait_idle(self.options.delivery_timeout):
            print("slacknb: the study board did not show this process's last trials in time", file=sys.stderr)
        self._loop.close()

    # -- the trials' reports ----------------------------------------------------------------------
    def _track(self, report) -> None:
        with self._lock:
            self._reports.append(report)

    def _hold(self, number: int, report) -> bool:
        with self._lock:
            if self._runs == 0 and not self._begun_by_callback:
                return False
            self._held[number] = report
            return True

    def _make_mirror(self, *, adopt=None, parent=None, label=None):
        """The board's mirror (posting it, or ``adopt``-ing the recorded one: edits before the trials'
        reports' in the gate), or a message in its thread (``parent``) whose reply mentions people."""
        if parent is not None:
            return SlackMirror(settings=self._settings, label=label or self.label, parent=parent)
        return SlackMirror(settings=self._edit_settings, label=self.label, priority=1, adopt=adopt)


def _wrap_optimize(study, board: SlackBoard) -> None:
    """``study.optimize``, on this object only, reporting its end and its trials to ``board``."""
    original = study.optimize

    @functools.wraps(original)
    def optimize(func, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if not any(callback is board for callback in callbacks):
            callbacks.append(board)
        board._begin()
        error = None
        try:
            return original(_objective(func, board), *args, callbacks=callbacks, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            board._end(error)

    optimize.slacknb_board = board
    study.optimize = optimize


def _objective(func, board: SlackBoard):
    @functools.wraps(func)
    def objective(trial):
        board._count_trial()
        token = _trial.set(trial)
        try:
            return func(trial)
        finally:
            _trial.reset(token)

    return objective
