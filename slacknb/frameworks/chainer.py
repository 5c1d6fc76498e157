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

from slacknb.core.ranks import alert_label, detect_rank
from slacknb.frameworks.distributed import share_message
from slacknb.core.context import default_label
from slacknb.slack.mirror import SlackMirror
from slacknb.core.render import DEFAULT_MAX_BYTES, Renderer
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED
from slacknb.core.stop import StopSignal
from slacknb.run import ReportRun
from slacknb.slack.buttons import allowed_people, stop_listener
from slacknb.core.template import DEFAULT_TEMPLATE
from slacknb.run import default_views


class SlackReport(chainer_extensions.PrintReport):
    """Report the training log to one Slack message, edited in place, and to the notebook.

    The first seven arguments are chainer-slack-report's, in its order. ``access_token``
    and ``channel_id`` may be None: then ``SLACK_BOT_TOKEN`` (or ``SLACK_ACCESS_TOKEN``)
    and ``SLACK_CHANNEL_ID`` apply, and without them the report stays local.
    ``entries=None`` picks the columns from the log as it fills; ``local=True``
    keeps the report out of Slack whatever the settings.

    ``label`` names the run (``{label}`` in the template, and the end-of-run replies);
    None derives it from the notebook or script name and a short run id, "" means none.
    ``comm`` is a ChainerMN communicator: then only rank 0 reports, and the report must
    be added on every rank (see :mod:`slacknb.core.ranks`). Without it, the launcher's
    rank variables (``OMPI_COMM_WORLD_RANK``, ``PMI_RANK``, ``RANK``, ``SLURM_PROCID``)
    decide the same way. ``delivery_timeout`` bounds how long the end of the run is
    still delivered after ``flush_timeout`` (see :class:`~slacknb.slack.mirror.SlackMirror`).

    ``stop_button=True`` puts a Stop button under the report in Slack (it needs the app's
    app-level token in ``SLACK_APP_TOKEN``, Socket Mode and Interactivity on). The people
    in ``stop_allowed`` (user IDs, @names or e-mails; default: those in
    ``finish_mentions``) may press it; the run then ends after the current iteration,
    through the trainer's stop trigger, so every extension's ``finalize`` still runs,
    and reads Stopped. The notebook widget has a Stop button of its own.
    """

    def __init__(self, access_token=None, channel_id=None, entries=None,
                 template=DEFAULT_TEMPLATE, finish_mentions=(), len_normalizer="thin_out",
                 log_report="LogReport", *, max_bytes=DEFAULT_MAX_BYTES, min_interval=5.0,
                 flush_timeout=30.0, base_url=None, alert_prefix="", alert="all",
                 min_iterations=0, label=None, local=False, out=None, views=None, console_tail=None,
                 comm=None, delivery_timeout=120.0, stop_button=False, stop_allowed=None):
        if entries is not None and (isinstance(entries, str) or not all(isinstance(e, str) for e in entries)):
            raise TypeError("entries must be a list of observation keys such as "
                            "['epoch', 'main/loss'], or None to pick them from the log")
        if isinstance(min_iterations, bool) or not isinstance(min_iterations, int) or min_iterations < 0:
            raise ValueError(f"min_iterations must be a whole number >= 0, not {min_iterations!r}")
        # PrintReport's own state is kept for subclass compatibility; the
        # table is printed by ConsoleView so that entries=None works too.
        super().__init__(list(entries or []), log_report=log_report, out=out or sys.stdout)
        self._entries_arg = None if entries is None else list(entries)
        renderer = Renderer(template=template, max_bytes=max_bytes, normalizer=len_normalizer)
        rank = detect_rank(comm)
        if label is None:
            label = default_label()
        mirror = SlackMirror(access_token, channel_id, base_url=base_url, mentions=finish_mentions or None,
                             alert_prefix=alert_prefix, min_interval=min_interval,
                             flush_timeout=flush_timeout, delivery_timeout=delivery_timeout, label=label,
                             alert_label=alert_label(label, rank), owns_message=rank.owner, local=local)
        if not rank.owner and comm is None:
            # A launcher's variable, no communicator: rank 0's message cannot be learned,
            # so a failure here is announced in the channel under the (job-wide) label.
            mirror.attach(None, None)
        if views is None:
            # Like ChainerMN's examples, only rank 0 prints: N copies of one table help nobody.
            views = default_views(out=out) if rank.owner else []
        stop = StopSignal()
        listener = None
        if stop_button:
            allowed = allowed_people(stop_allowed, finish_mentions)
            if rank.distributed:
                # Every rank would have to leave the loop at the same iteration: that is a
                # collective per iteration, which a button is not worth.
                warnings.warn("slacknb: the Stop button is for single-process runs; this one has "
                              f"{rank.size} processes, so it has none", RuntimeWarning, stacklevel=2)
            elif mirror.enabled:
                listener = stop_listener(token=None if local else access_token, base_url=base_url,
                                         allowed=allowed, signal=stop)
        self._run = ReportRun(renderer=renderer, mirror=mirror, views=views, alert=alert,
                              min_iterations=min_iterations, stop=stop, listener=listener)
        self._label = label
        self._comm = comm
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

    def serialize(self, serializer):
        # PrintReport serializes its LogReport instance, if it owns one. Nothing
        # else is added, so snapshots stay loadable both ways with
        # chainer-slack-report's, and the token is never part of one.
        super().serialize(serializer)

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
