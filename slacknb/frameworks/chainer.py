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

In a multi-process job (``comm=`` a ChainerMN communicator, or a launcher's rank
variable) only rank 0 reports; see :mod:`slacknb.core.ranks`.
"""

from __future__ import annotations

import sys
import warnings

from chainer.training import extensions as chainer_extensions
from chainer.training.extensions import log_report as log_report_module

from slacknb.core.context import default_label
from slacknb.core.ranks import alert_label, detect_rank
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED
from slacknb.core.template import DEFAULT_TEMPLATE
from slacknb.frameworks.distributed import share_message
from slacknb.options import check, parameters_doc
from slacknb.run import ReportRun, default_views

__all__ = ["SlackReport"]


class SlackReport(chainer_extensions.PrintReport):
    """Report the training log to one Slack message, edited in place, and to the notebook.

    The first seven arguments are chainer-slack-report's, in its order; every other
    option is a keyword, declared once in :mod:`slacknb.options`. Without a token
    (``access_token``, else ``SLACK_BOT_TOKEN`` or ``SLACK_ACCESS_TOKEN``) or a channel
    (``channel_id``, else ``SLACK_CHANNEL_ID``) the report stays local, and says so once.
    A bad value raises TypeError or ValueError here, before training starts.

    In a multi-process job (``comm``, or a launcher's rank variable: ``OMPI_COMM_WORLD_RANK``,
    ``PMI_RANK``, ``RANK``, ``SLURM_PROCID``) only rank 0 reports, and with ``comm`` the
    report must be added on every rank (see :mod:`slacknb.frameworks.distributed`).

    Parameters
    ----------
    OPTIONS
    out : default sys.stdout
        Where the console view prints PrintReport's table (outside a notebook).
    views : default None
        The local views (None: the notebook widget in a kernel, else the console table).
    console_tail : default None
        A callable returning the console's last lines, for the failure alert.
    """

    def __init__(self, access_token=None, channel_id=None, entries=None,
                 template=DEFAULT_TEMPLATE, finish_mentions=(), len_normalizer="thin_out",
                 log_report="LogReport", *, out=None, views=None, console_tail=None, **options):
        self.options = options = check(
            access_token=access_token, channel_id=channel_id, entries=entries, template=template,
            finish_mentions=finish_mentions, len_normalizer=len_normalizer, log_report=log_report, **options)
        # PrintReport's own state is kept for subclass compatibility; the
        # table is printed by ConsoleView so that entries=None works too.
        super().__init__(list(entries or []), log_report=log_report, out=out or sys.stdout)
        self._entries_arg = None if entries is None else list(entries)
        rank = detect_rank(options.comm)
        label = default_label() if options.label is None else options.label
        if views is None:
            # Like ChainerMN's examples, only rank 0 prints: N copies of one table help nobody.
            views = default_views(out=out) if rank.owner else []
        if options.stop_button and rank.distributed:
            # Every rank would have to leave the loop at the same iteration: that is a
            # collective per iteration, which a button is not worth.
            warnings.warn("slacknb: the Stop button is for single-process runs; this one has "
                          f"{rank.size} processes, so it has none", RuntimeWarning, stacklevel=2)
        self._run = ReportRun.from_options(options, views=views, label=label,
                                           alert_label=alert_label(label, rank), owns_message=rank.owner,
                                           stop_button=not rank.distributed)
        if not rank.owner and options.comm is None:
            # A launcher's variable, no communicator: rank 0's message cannot be learned,
            # so a failure here is announced in the channel under the (job-wide) label.
            self._run.mirror.attach(None, None)
        self._label = label
        self._comm = options.comm
        self._rank = rank
        self._console_tail = console_tail
        self._trainer = None
        self._outer_exception = None
        self._failure = None
        self._seen_rows = 0

    # -- public read-only views of the run, for notebooks and tests ---------
    @property
    def state(self):
        """The report state (status, log, elapsed, progress)."""
        return self._run.state

    @property
    def slack(self):
        """The Slack mirror's state: sync status, permalink, exactly what Slack has."""
        return self._run.mirror.state

    @property
    def text(self) -> str:
        """The message text as Slack gets it now (same renderer as the views)."""
        return self._run.renderer.render(self._run.state)

    @property
    def available(self) -> bool:
        """chainer-slack-report's flag: True while the report is mirrored to Slack."""
        return self._run.mirror.enabled

    @property
    def label(self) -> str:
        """The run label (rank 0's, on every rank of a ChainerMN job, once training started)."""
        return self._label

    @property
    def rank(self):
        """This process's :class:`~slacknb.core.ranks.Rank` (rank 0 of 1 when alone)."""
        return self._rank

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
            self._run.stoppable = True
        self._run.start(log=log if log is not None else [], entries=self._entries_arg, label=self._label)
        if self._comm is not None:
            self._share_message()
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
        if self._trainer is None or self._run.finished:
            return
        in_flight = sys.exc_info()[1]
        if in_flight is self._outer_exception:
            in_flight = None
        if self._failure is not None:
            status, error = FAILED, self._failure
        elif in_flight is not None and not isinstance(in_flight, Exception):
            status, error = INTERRUPTED, None
        elif in_flight is not None:
            status, error = FAILED, in_flight  # raised by another extension's finalize
        else:
            status, error = COMPLETED, None
        try:
            self._tick(self._trainer, log_grew=False, render=False)
            tail = self._console_tail() if self._console_tail is not None else None
        except Exception as exc:  # noqa: BLE001 - finalize runs in Trainer.run's finally:
            # raising here would replace the training's own exception.
            warnings.warn(f"slacknb: the end of the run is reported without its last details "
                          f"({type(exc).__name__}: {exc})", RuntimeWarning)
            tail = None
        self._run.finish(status, error=error, console_tail=tail)

    # -- helpers -------------------------------------------------------------
    def _share_message(self):
        # Collective (bcast_obj): every rank passes here once, at the start of training.
        mirror = self._run.mirror
        try:
            thread, label = share_message(self._comm, self._rank, mirror, label=self._label)
        except Exception as exc:  # noqa: BLE001 - never a reason to stop training
            warnings.warn(f"slacknb: rank 0's Slack message was not shared ({type(exc).__name__}: {exc})",
                          RuntimeWarning)
            thread, label = None, self._label
        if self._rank.owner:
            return
        self._label = label
        self._run.state.label = label
        mirror.attach(*(thread or (None, None)), alert_label=alert_label(label, self._rank))

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
        progress = _progress(trainer)
        if render:
            self._run.tick(elapsed=trainer.elapsed_time, progress=progress,
                           iterations=trainer.updater.iteration, log_grew=log_grew)
        else:
            self._run.state.elapsed = trainer.elapsed_time
            self._run.state.progress = progress
            self._run.iterations = trainer.updater.iteration

    def _repr_mimebundle_(self, include=None, exclude=None):
        # display(report) / a cell's last value: the live widget when one shows
        # this run, else text/plain and text/html of the same report.
        from slacknb.views.notebook import mimebundle

        return mimebundle(self._run.frame())

    def __repr__(self) -> str:
        return f"<SlackReport {self._run.state.status} slack={self._run.mirror.state.status}>"


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
        length, unit = trainer.stop_trigger.get_training_length()
        done = trainer.updater.epoch_detail if unit == "epoch" else trainer.updater.iteration
        return min(max(done / length, 0.0), 1.0) if length else None
    except Exception:  # noqa: BLE001 - unknown trigger types simply have no progress
        return None


SlackReport.__doc__ = SlackReport.__doc__.replace("    OPTIONS\n", "    " + parameters_doc().replace("\n", "\n    ") + "\n")
