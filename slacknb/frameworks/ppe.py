"""``SlackReport`` for pytorch-pfn-extras (ppe 0.9): Chainer's report, on a ppe manager.

What ppe 0.9 calls on an extension, in its two ways of training (read from its
source and checked by running both; "loop" is a hand-written
``while not manager.stop_trigger: with manager.run_iteration(): ...``):

=================================  ================================  ==================
how the run ends                   ``Trainer.run``                   loop
=================================  ================================  ==================
stop trigger reached               ``finalize``                      ``finalize``
``Exception`` inside an iteration  ``on_error``, then ``finalize``   ``on_error`` only
(the step or an extension)         (from inside its ``except``)
``Exception`` between iterations   nothing                           nothing
(e.g. the data loader)
``KeyboardInterrupt`` anywhere     nothing                           nothing
=================================  ================================  ==================

``initialize`` runs once, when the manager starts its extensions: at the first
``run_iteration``, or earlier when the loop reads ``manager.stop_trigger`` or
``manager.iteration`` (then ``manager.elapsed_time`` raises until the first
iteration begins). ``finalize`` runs at the end of the iteration where the
manager's own copy of the stop trigger fires, before ``Trainer.run``'s
``train_epoch_end`` and ``train_cleanup``.

So the statuses come from: ``initialize`` -> Started; the first log row ->
Training; ``finalize`` -> Completed (Failed if an exception is in flight);
``on_error`` -> Failed at once (in a loop nothing follows it). Where ppe calls
nothing, the run is ended by :mod:`slacknb.frameworks.endings`: the exception
that leaves the cell (IPython) or the process (``sys.excepthook``) ends it as
Failed, or Interrupted for a ``KeyboardInterrupt``; a process that exits with the
run still open (a caught ``KeyboardInterrupt``) ends it as Interrupted. A run is
never Completed after a crash. SIGTERM and SIGHUP end it as Terminated
(:mod:`slacknb.frameworks.signals`), and the stall watch marks it Stalled while no
iteration ends (:mod:`slacknb.frameworks.stalls`), in both ways of training.

:func:`request_stop` asks a manager to stop at the next iteration boundary.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings

from slacknb.core.state import FAILED, INTERRUPTED, TERMINATED
from slacknb.core.template import DEFAULT_TEMPLATE
from slacknb.frameworks.common import ReportFace, document_parameters, ending_status, exception_in_flight, framework_missing, progress_of
from slacknb.frameworks.endings import EndingWatch
from slacknb.frameworks.patching import extensions_of
from slacknb.frameworks.torch_group import torch_group
from slacknb.options import check

try:
    from pytorch_pfn_extras.training import extension as ppe_extension
    from pytorch_pfn_extras.training.extensions import log_report as log_report_module
    from pytorch_pfn_extras.training.extensions import print_report as ppe_print_report
    from pytorch_pfn_extras.training.extensions import progress_bar as ppe_progress_bar
except ImportError as exc:
    raise framework_missing("slacknb.ppe.SlackReport", "pytorch_pfn_extras", "ppe", exc) from exc


__all__ = ["SlackReport", "request_stop"]


class SlackReport(ReportFace, ppe_extension.Extension):
    """Report a ppe training to one Slack message, edited in place, and to the notebook.

    ``manager.extend(SlackReport(...), trigger=(1, "epoch"))``, or ``trainer.extend``
    before ``Trainer.run``. The arguments are :class:`slacknb.SlackReport`'s, in its
    order, then the same keyword options (declared once in :mod:`slacknb.options`).
    ``log_report`` is the name of ppe's LogReport extension, or a LogReport. A bad
    value raises TypeError or ValueError here, before training starts.

    Under torchrun (``RANK``/``WORLD_SIZE``) only rank 0 reports. When a process
    group is initialised, rank 0's message reaches the other ranks through
    ``torch.distributed.broadcast_object_list`` at the start of training: then
    the report must be added on EVERY rank (the broadcast is collective), and a
    failing rank's alert goes into rank 0's thread. Without a group it goes to
    the channel, under the job's label.

    PARAMETERS
    """

    trigger = (1, "epoch")
    # Just after LogReport (PRIORITY_READER too): its newest row is read the same iteration.
    priority = ppe_extension.PRIORITY_READER - 1
    default_name = "SlackReport"

    def __init__(self, access_token=None, channel_id=None, entries=None, template=DEFAULT_TEMPLATE,
                 finish_mentions=(), len_normalizer="thin_out", log_report="LogReport", *, out=None,
                 views=None, console_tail=None, comm=None, **options):
        if not isinstance(log_report, (str, log_report_module.LogReport)):
            raise TypeError("log_report must be the name of a LogReport extension (default \"LogReport\") "
                            f"or a pytorch_pfn_extras LogReport, not {type(log_report).__name__}")
        self._setup(check(access_token=access_token, channel_id=channel_id, entries=entries, template=template,
                          finish_mentions=finish_mentions, len_normalizer=len_normalizer, log_report=log_report,
                          comm=torch_group() if comm is None else comm, **options),
                    out=out, views=views, console_tail=console_tail)

    @classmethod
    def from_options(cls, options, *, out=None, views=None, console_tail=None) -> "SlackReport":
        """The report of checked :class:`~slacknb.options.ReportOptions` (the cell magic's)."""
        report = cls.__new__(cls)
        if options.comm is None:
            options = dataclasses.replace(options, comm=torch_group())
        report._setup(options, out=out, views=views, console_tail=console_tail)
        return report

    def _setup(self, options, *, out, views, console_tail) -> None:
        self._build_report(options, out=out, views=views, console_tail=console_tail)
        self._log_report = options.log_report
        self._manager = None
        self._looker = None
        self._rows: list = []
        self._outer_exception = None
        self._ended_by = None
        self._watch = EndingWatch(self.end_with)

    # -- ppe's extension protocol ---------------------------------------------
    def initialize(self, manager) -> None:
        self._manager = manager
        # An exception already being handled around the training is not ours.
        self._outer_exception = sys.exc_info()[1]
        log_report = self._find_log_report(manager)
        if log_report is not None:
            self._rows = list(log_report.log)  # a resumed run's earlier rows
            # Our own reader of the log, as PrintReport has: LogReport(append=True) empties its own.
            self._looker = log_report._log_buffer.emit_new_looker()
        if not self._rank.distributed:
            # A Stop button is asked at the end of each iteration, where ppe decides finalize.
            manager._internal_stop_trigger = _AskRun(manager._internal_stop_trigger, self._run.should_stop)
        # A manager that prints its own table keeps it alone on the console.
        self._quiet_console(extensions_of(manager, (ppe_print_report.PrintReport, ppe_progress_bar.ProgressBar)))
        self._run.start(log=self._rows, entries=self._entries_arg, label=self._label,
                        stoppable=not self._rank.distributed)
        comm = self._comm if self._comm is not None else torch_group()
        if comm is not None and (self._rank.distributed or comm is self._comm):
            self._share_message(comm)
        self._watches.append(self._watch.start())
        self._watch_run(lambda: manager.iteration, last_tick=lambda: self._tick(manager, log_grew=False, render=False))
        self._tick(manager, log_grew=bool(self._rows))

    def __call__(self, manager) -> None:
        grew = False
        if self._looker is not None:
            if isinstance(self._log_report, log_report_module.LogReport):
                self._log_report(manager)  # an internal LogReport is fed here, as PrintReport does
            new = self._looker.get()
            if new:
                self._rows.extend(new)
                self._looker.clear()
                grew = True
        self._tick(manager, log_grew=grew)

    def on_error(self, manager, exc, tb) -> None:
        # A hand-written loop calls nothing after this: the run ends here.
        self._end(FAILED, exc)

    def finalize(self, manager) -> None:
        # The stop trigger fired, or Trainer.run is cleaning up after an error.
        error = exception_in_flight(self._outer_exception)
        self._end(ending_status(error), error)

    # -- endings ppe does not announce ---------------------------------------
    @property
    def ended_by(self) -> BaseException | None:
        """The exception that ended the run (None while it runs, or when it completed)."""
        return self._ended_by

    def end_with(self, error: BaseException | None) -> None:
        """End the run, if still open, with ``error``: the exception that stopped training
        where ppe calls no hook (Failed, or Interrupted for a KeyboardInterrupt), or None
        when the process exits with the run open (Interrupted)."""
        self._end(INTERRUPTED if error is None else ending_status(error), error)

    # -- helpers -------------------------------------------------------------
    def _terminated(self, name: str) -> None:
        self._end(TERMINATED, None, cause=name)

    def _end(self, status, error, *, cause: str = "") -> None:
        if self._manager is None or self._run.finished:
            return
        self._ended_by = error
        self._end_report(status, error, last_tick=self._last_tick, cause=cause)

    def _find_log_report(self, manager):
        log_report = self._log_report
        try:
            if isinstance(log_report, str):
                log_report = manager.get_extension(log_report)
            if not isinstance(log_report, log_report_module.LogReport):
                raise TypeError(f"{self._log_report!r} is a {type(log_report).__name__}, not a LogReport")
            return log_report
        except Exception as exc:  # noqa: BLE001 - a missing LogReport must not stop training
            warnings.warn(f"slacknb: cannot read the log ({exc}); add "
                          "manager.extend(extensions.LogReport())", RuntimeWarning)
            return None

    def _tick(self, manager, *, log_grew: bool, render: bool = True) -> None:
        try:
            elapsed = manager.elapsed_time
        except RuntimeError:  # before the first iteration began
            elapsed = 0.0
        iteration = manager.iteration
        progress = progress_of(_training_length(manager), iteration, manager.epoch_detail)
        self._run.record(elapsed=elapsed, progress=progress, iterations=iteration, log_grew=log_grew, render=render)
        if log_grew and render:
            self._rows_grew()


def _training_length(manager):
    # ppe's own ProgressBar reads the stop trigger the same way.
    trigger = getattr(manager, "_stop_trigger", None)
    return trigger.get_training_length() if hasattr(trigger, "get_training_length") else None



class _Stopping:
    """Stands in for the manager's two stop triggers once a stop is requested.

    ppe 0.9 keeps two copies of the stop trigger: ``_internal_stop_trigger``,
    checked at the end of each iteration, decides ``finalize``; ``_stop_trigger``
    (what ``manager.stop_trigger`` reads) ends the loop. The outer one fires only
    once the inner one has, so the loop never ends without ``finalize``, nor runs
    an iteration after it, whenever the request lands.
    """

    def __init__(self, trigger, inner: "_Stopping | None" = None):
        self._trigger = trigger
        self._inner = inner
        self.fired = False

    def __call__(self, manager) -> bool:
        if self._inner is None:
            self.fired = True
        elif not self._inner.fired:
            return self._trigger(manager)
        return True

    def __getattr__(self, name):
        # get_training_length (progress), may_fire, state_dict: the original's.
        return getattr(self._trigger, name)


class _AskRun:
    """ppe's internal stop trigger, also asking the run whether a Stop button was pressed;
    once it was, the manager stops as :func:`request_stop` makes it, at this iteration."""

    def __init__(self, trigger, should_stop):
        self._trigger = trigger
        self._should_stop = should_stop

    def __call__(self, manager) -> bool:
        if self._trigger(manager):
            return True  # the planned end: reads Completed
        if not self._should_stop():
            return False
        request_stop(manager)
        return manager._internal_stop_trigger(manager)  # request_stop's own: fires now

    def __getattr__(self, name):
        return getattr(self._trigger, name)


document_parameters(SlackReport)


def request_stop(manager) -> None:
    """Stop ``manager``'s training gracefully at the next iteration boundary.

    The running iteration finishes with its extensions; then ppe acts as when
    the planned length is reached: the manager calls ``finalize`` on every
    extension (snapshots, LogReport, this report), ``Trainer.run`` returns after
    ``train_epoch_end`` and ``train_cleanup``, and a hand-written
    ``while not manager.stop_trigger`` loop ends. Safe to call from another
    thread, and more than once.
    """
    if isinstance(manager._internal_stop_trigger, _Stopping):
        return
    inner = _Stopping(manager._internal_stop_trigger)
    # The outer one first: until the inner one is in place it behaves as before.
    manager._stop_trigger = _Stopping(manager._stop_trigger, inner)
    manager._internal_stop_trigger = inner
