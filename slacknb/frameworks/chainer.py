"""``SlackReport``: the Chainer trainer extension, a drop-in for chainer-slack-report's.

Chainer's lifecycle, and where each status comes from:

- ``initialize(trainer)`` (start of ``Trainer.run``): Started; the message is
  posted and the notebook widget appears. Nothing happens at construction, so
  building the extension twice leaves no orphan message.
- ``__call__`` (every trigger): Training, with new log rows.
- ``on_error`` (an ``Exception`` in the loop): Failed, with the exception.
- ``finalize()`` (always, in ``Trainer.run``'s ``finally``): Completed when no
  exception is in flight, Interrupted for ``KeyboardInterrupt`` (Chainer does
  not call ``on_error`` for it).
- SIGTERM or SIGHUP while it trains: Terminated, at once
  (:mod:`slacknb.frameworks.signals`); no iteration for ``stall_after``: Stalled, until
  iterations come back (:mod:`slacknb.frameworks.stalls`).

In a multi-process job (``comm=`` a ChainerMN communicator, or a launcher's rank
variable) only rank 0 reports; see :mod:`slacknb.core.ranks`.
"""

from __future__ import annotations

import sys
import warnings

from slacknb.core.state import FAILED
from slacknb.core.template import DEFAULT_TEMPLATE
from slacknb.frameworks.common import ReportFace, document_parameters, ending_status, exception_in_flight, framework_missing, progress_of
from slacknb.frameworks.distributed import abort_hook_installed
from slacknb.frameworks.patching import extensions_of
from slacknb.options import check

try:
    from chainer.training import extensions as chainer_extensions
    from chainer.training.extensions import log_report as log_report_module
except ImportError as exc:
    raise framework_missing("slacknb.SlackReport", "chainer", "chainer", exc) from exc

__all__ = ["SlackReport"]


class SlackReport(ReportFace, chainer_extensions.PrintReport):
    """Report the training log to one Slack message, edited in place, and to the notebook.

    The first seven arguments are chainer-slack-report's, in its order; every other
    option is a keyword, declared once in :mod:`slacknb.options`. Without a token
    (``access_token``, else ``SLACK_BOT_TOKEN`` or ``SLACK_ACCESS_TOKEN``) or a channel
    (``channel_id``, else ``SLACK_CHANNEL_ID``) the report stays local, and says so once.
    A bad value raises TypeError or ValueError here, before training starts.

    In a multi-process job (``comm``, or a launcher's rank variable: ``OMPI_COMM_WORLD_RANK``,
    ``PMI_RANK``, ``RANK``, ``SLURM_PROCID``) only rank 0 reports, and with ``comm`` the
    report must be added on every rank (see :mod:`slacknb.frameworks.distributed`).

    PARAMETERS
    """

    def __init__(self, access_token=None, channel_id=None, entries=None,
                 template=DEFAULT_TEMPLATE, finish_mentions=(), len_normalizer="thin_out",
                 log_report="LogReport", *, out=None, views=None, console_tail=None, **options):
        self._setup(check(access_token=access_token, channel_id=channel_id, entries=entries, template=template,
                          finish_mentions=finish_mentions, len_normalizer=len_normalizer, log_report=log_report,
                          **options), out=out, views=views, console_tail=console_tail)

    @classmethod
    def from_options(cls, options, *, out=None, views=None, console_tail=None) -> "SlackReport":
        """The report of checked :class:`~slacknb.options.ReportOptions` (the cell magic's)."""
        report = cls.__new__(cls)
        report._setup(options, out=out, views=views, console_tail=console_tail)
        return report

    def _setup(self, options, *, out, views, console_tail) -> None:
        self._build_report(options, out=out, views=views, console_tail=console_tail)
        # PrintReport's own state is kept for subclass compatibility; the
        # table is printed by ConsoleView so that entries=None works too.
        super().__init__(list(options.entries or []), log_report=options.log_report, out=out or sys.stdout)
        self._trainer = None
        self._outer_exception = None
        self._failure = None
        self._seen_rows = 0

    # -- Chainer's extension protocol ----------------------------------------
    def initialize(self, trainer):
        self._trainer = trainer
        # An exception already being handled around trainer.run() is not ours.
        self._outer_exception = sys.exc_info()[1]
        log = self._log(trainer)
        self._seen_rows = len(log) if log is not None else 0
        if not self._rank.distributed:
            # Trainer.run reads stop_trigger after the initializers: a Stop click ends the
            # loop at the next iteration boundary, and finalize() still runs.
            trainer.stop_trigger = StopTrigger(trainer.stop_trigger, self._run.should_stop)
        # A trainer that prints its own table keeps it alone on the console (chainer-slack-report
        # printed nothing; ProgressBar moves the cursor up and a second table garbles it).
        printers = extensions_of(trainer, (chainer_extensions.PrintReport, chainer_extensions.ProgressBar))
        self._quiet_console([e for _, e in printers if e is not self])
        self._run.start(log=log if log is not None else [], entries=self._entries_arg, label=self._label,
                        stoppable=not self._rank.distributed)
        self._watch_run(lambda: trainer.updater.iteration,
                        last_tick=lambda: self._tick(trainer, log_grew=False, render=False))
        if self._comm is not None:
            self._share_message(self._comm)
        self._tick(trainer, log_grew=self._seen_rows > 0)

    def __call__(self, trainer):
        log = self._log(trainer)
        grew = log is not None and len(log) > self._seen_rows
        if grew:
            self._seen_rows = len(log)
        self._tick(trainer, log_grew=grew)

    def on_error(self, trainer, exc, tb):
        self._failure = exc

    def finalize(self):
        if self._trainer is None:
            return
        in_flight = exception_in_flight(self._outer_exception)
        if self._failure is not None:
            status, error = FAILED, self._failure
        else:  # an exception here without on_error: a KeyboardInterrupt, or another finalize's
            status, error = ending_status(in_flight), in_flight
        self._end_report(status, error, last_tick=lambda: self._tick(self._trainer, log_grew=False, render=False))
        if status == FAILED and abort_hook_installed():
            # ChainerMN's global_except_hook aborts every process as soon as this exception
            # reaches it: the background delivery would die with it, so the alert is waited for.
            self._run.mirror.wait_delivered(self.options.delivery_timeout)

    # -- helpers -------------------------------------------------------------
    def _log(self, trainer):
        log_report = self._log_report
        try:
            if isinstance(log_report, str):
                log_report = trainer.get_extension(log_report)
            elif isinstance(log_report, log_report_module.LogReport):
                log_report(trainer)  # an internal LogReport is updated here, as PrintReport does
            return log_report.log
        except Exception as exc:  # noqa: BLE001 - a missing LogReport must not stop training
            if not getattr(self, "_warned_log", False):
                self._warned_log = True
                warnings.warn(f"slacknb: cannot read the log ({exc}); add "
                              "trainer.extend(extensions.LogReport())", RuntimeWarning)
            return None

    def _tick(self, trainer, *, log_grew: bool, render: bool = True):
        self._run.record(elapsed=trainer.elapsed_time, progress=_progress(trainer),
                         iterations=trainer.updater.iteration, log_grew=log_grew, render=render)
        if log_grew and render:
            self._rows_grew()


class StopTrigger:
    """The trainer's stop trigger, also true once ``should_stop()`` says so. Everything
    else (``get_training_length``, ``serialize``...) is the wrapped trigger's."""

    def __init__(self, trigger, should_stop) -> None:
        self.trigger = trigger
        self._should_stop = should_stop

    def __call__(self, trainer) -> bool:
        # The wrapped trigger first: a run that ends on its own reads Completed.
        return bool(self.trigger(trainer)) or self._should_stop()

    def __getattr__(self, name):
        return getattr(self.trigger, name)


def _progress(trainer) -> float | None:
    """Fraction of the stop trigger reached, when the trigger tells its length."""
    try:
        length_unit = trainer.stop_trigger.get_training_length()
    except Exception:  # noqa: BLE001 - unknown trigger types simply have no progress
        return None
    return progress_of(length_unit, trainer.updater.iteration, trainer.updater.epoch_detail)


document_parameters(SlackReport)
