"""What every framework's ``SlackReport`` shares: its run, its public face, its ending.

A framework's extension (:mod:`slacknb.frameworks.chainer`, :mod:`slacknb.frameworks.ppe`)
only translates its framework's hooks: :meth:`ReportFace._build_report` at construction (with
options checked once, by the keywords or by the cell magic), ``self._run.start`` and
``self._run.record`` as training goes, :meth:`ReportFace._end_report` once, with the ending it saw.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import warnings

from slacknb.core.context import default_label
from slacknb.core.outcome import Ending
from slacknb.core.ranks import alert_label, detect_rank
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED, TERMINATED
from slacknb.frameworks.distributed import share_message
from slacknb.frameworks.signals import SignalWatch
from slacknb.frameworks.stalls import StallWatch
from slacknb.options import parameters_doc, slack_configured
from slacknb.run import ReportRun, default_views
from slacknb.views.console import ConsoleView

__all__ = ["ReportFace", "document_parameters", "framework_missing", "ending_status", "exception_in_flight", "progress_of", "trigger_spec"]


def framework_missing(what: str, module: str, extra: str, error: ImportError) -> ImportError:
    """The ImportError a framework's ``SlackReport`` raises when its framework does not import."""
    if importlib.util.find_spec(module) is None:
        return ImportError(f'{what} needs {module}, which is not installed: pip install ".[{extra}]" in a clone '
                           'of slacknb (README: "Install into your own environment")')
    hint = ""
    if module == "chainer":
        hint = (" With setuptools 74 or later (torch needs 77), Chainer 7.8.1 imports only when "
                "SETUPTOOLS_USE_DISTUTILS=stdlib is set before Python starts (Python 3.11 or older).")
    return ImportError(f"{what}: {module} is installed but does not import ({type(error).__name__}: {error})."
                       f"{hint} See the README's \"Install into your own environment\".")


def ending_status(error: BaseException | None):
    """The status of a run that ended with ``error`` in flight (None: it completed)."""
    if error is None:
        return COMPLETED
    return FAILED if isinstance(error, Exception) else INTERRUPTED


def exception_in_flight(outer: BaseException | None) -> BaseException | None:
    """The exception being handled now, unless it is ``outer`` (handled around the training)."""
    in_flight = sys.exc_info()[1]
    return None if in_flight is outer else in_flight


def progress_of(length_unit, iteration: int, epoch_detail: float) -> float | None:
    """Fraction of a stop trigger's ``(length, unit)`` reached; None when it has no length."""
    try:
        length, unit = length_unit
        done = epoch_detail if unit == "epoch" else iteration
        return min(max(done / length, 0.0), 1.0) if length else None
    except Exception:  # noqa: BLE001 - unknown trigger types simply have no progress
        return None


def trigger_spec(trigger, default: tuple) -> tuple:
    """A LogReport's trigger as a fresh ``(period, unit)`` (``default`` when it is no interval).

    Fresh, because interval triggers keep state: sharing the LogReport's own object
    would make each of the two skip some calls.
    """
    period, unit = getattr(trigger, "period", None), getattr(trigger, "unit", None)
    if unit in ("epoch", "iteration") and period:
        return period, unit
    return default


# The keywords every framework's SlackReport takes beside the options, documented once.
_VIEW_PARAMETERS = """out : default sys.stdout
    Where the console view prints PrintReport's table (outside a notebook).
views : default None
    The local views (None: the notebook widget in a kernel, else the console table).
console_tail : default None
    A callable returning the console's last lines, for the failure alert."""


def document_parameters(cls: type) -> type:
    """Fill the ``PARAMETERS`` line of ``cls``'s docstring with every option and the view keywords."""
    text = "Parameters\n----------\n" + parameters_doc() + "\n" + _VIEW_PARAMETERS
    cls.__doc__ = cls.__doc__.replace("    PARAMETERS\n", "    " + text.replace("\n", "\n    ") + "\n")
    return cls


class ReportFace:
    """The framework-neutral half of a ``SlackReport``: its run and what users read of it."""

    def _build_report(self, options, *, out, views, console_tail) -> None:
        """Build the run of ``options`` (checked already: :func:`slacknb.options.check`); posts nothing."""
        self.options = options
        rank = detect_rank(options.comm)
        self._trial, parent = None, None
        if options.trial is not None:
            options, parent = self._link_trial(options)
        label = (self._trial.label if self._trial else default_label()) if options.label is None else options.label
        if views is None:
            # Like ChainerMN's examples, only rank 0 prints: N copies of one table help nobody.
            views = default_views(out=out, plot=options.plot) if rank.owner else []
        if options.stop_button and rank.distributed:
            # Every rank would have to leave the loop at the same iteration: that is a
            # collective per iteration, which a button is not worth.
            warnings.warn("slacknb: the Stop button is for single-process runs; this one has "
                          f"{rank.size} processes, so it has none", RuntimeWarning, stacklevel=3)
        self._run = ReportRun.from_options(options, views=views, label=label,
                                           alert_label=alert_label(label, rank), owns_message=rank.owner,
                                           stop_button=not rank.distributed, parent=parent)
        if not rank.owner and options.comm is None:
            # A launcher's variable, no communicator: rank 0's message cannot be learned,
            # so a failure here is announced in the channel under the (job-wide) label.
            self._run.mirror.attach(None, None)
        self._consoles = [view for view in views if isinstance(view, ConsoleView)]
        self._entries_arg = None if options.entries is None else list(options.entries)
        self._label = label
        self._comm = options.comm
        self._rank = rank
        self._console_tail = console_tail
        self._watches: list = []  # what ends or marks the run from outside its framework's hooks
        self._last_tick = None

    def _link_trial(self, options):
        """An Optuna trial's report: a reply in its study's board's thread (waits for the board,
        see slacknb.frameworks.trial_link), alerting about failures only: the end of the study
        mentions people once, on the board."""
        from slacknb.frameworks.trial_link import trial_link

        self._trial = link = trial_link(options.trial)
        link.track(self)
        if link.parent is None and slack_configured(options):
            warnings.warn(f"slacknb: the board of study {link.study_name!r} is not posted (SlackBoard(study) "
                          f"in this process, or another one?): trial {link.number}'s report is a message of its own",
                          RuntimeWarning, stacklevel=4)
        if options.alert in ("all", "completed"):
            options = dataclasses.replace(options, alert="failed")
        return options, link.parent

    def _rows_grew(self) -> None:
        """New log rows: a trial's report tells its study's board (a storage write, once per row)."""
        if self._trial is not None:
            self._trial.publish(self._run.state.log, self._entries_arg)

    def end_held(self, status) -> None:
        """End a trial's report held open after its training (see :meth:`_end_report`) with the
        trial's final status, from Optuna's state."""
        if not self._run.finished:
            self._run.finish(Ending(status))

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
        """The message text as Slack shows it now (same renderer as the views)."""
        return self._run.frame().preview

    @property
    def available(self) -> bool:
        """chainer-slack-report's flag: True while the report is mirrored to Slack."""
        return self._run.mirror.enabled

    @property
    def label(self) -> str:
        """The run label (rank 0's, on every rank of a multi-process job, once training started)."""
        return self._label

    @property
    def rank(self):
        """This process's :class:`~slacknb.core.ranks.Rank` (rank 0 of 1 when alone)."""
        return self._rank

    # -- what the framework's hooks call ------------------------------------
    def _share_message(self, comm) -> None:
        """Collective (``comm.bcast_obj``): every rank passes here once, at the start of training."""
        mirror = self._run.mirror
        try:
            thread, label = share_message(comm, self._rank, mirror, label=self._label)
        except Exception as exc:  # noqa: BLE001 - never a reason to stop training
            warnings.warn(f"slacknb: rank 0's Slack message was not shared ({type(exc).__name__}: {exc})",
                          RuntimeWarning)
            thread, label = None, self._label
        if self._rank.owner:
            return
        self._label = label
        self._run.relabel(label)
        mirror.attach(*(thread or (None, None)), alert_label=alert_label(label, self._rank))

    def _watch_run(self, iteration, *, last_tick) -> None:
        """At the start of training, on rank 0: SIGTERM and SIGHUP end the run as Terminated
        (:mod:`slacknb.frameworks.signals`), and the stall watch reads ``iteration()``
        (:mod:`slacknb.frameworks.stalls`). Other ranks' alerts come only from their own failures."""
        self._last_tick = last_tick
        if not self._rank.owner:
            return
        run = self._run
        # The wait is for the final edit and the replies people wait for, not the chart.
        self._watches += [SignalWatch(self._terminated, lambda timeout: run.mirror.wait_delivered(timeout, essential=True),
                                      bound=self.options.delivery_timeout).start(),
                          StallWatch(run, iteration, stall_after=self.options.stall_after).start()]

    def _terminated(self, name: str) -> None:
        """SIGTERM or SIGHUP arrived (``name``): the run ends as Terminated, now."""
        self._end_report(TERMINATED, None, last_tick=self._last_tick, cause=name)

    def _end_report(self, status, error: BaseException | None, *, last_tick, cause: str = "") -> None:
        """Deliver the ending once; ``last_tick()`` first records the final elapsed time and progress."""
        for watch in self._watches:
            watch.stop()
        if self._run.finished or getattr(self, "_held", False):
            return
        if self._trial is not None:
            status, error = self._trial.ending(status, error)
        try:
            last_tick()
            if status == COMPLETED and self._trial is not None and self._trial.hold(self):
                # Optuna decides after the objective returns (a value, TrialPruned, an error):
                # the board's callback ends this report with the trial's state.
                self._held = True
                return
            tail = self._console_tail() if self._console_tail is not None else None
        except Exception as exc:  # noqa: BLE001 - this runs while the training's own error
            # propagates (Chainer's finally, ppe's except): raising would replace it.
            warnings.warn(f"slacknb: the end of the run is reported without its last details "
                          f"({type(exc).__name__}: {exc})", RuntimeWarning)
            tail = None
        self._run.finish(Ending(status, error=error, console_tail=tail, cause=cause))

    def _quiet_console(self, printers: list) -> None:
        """The training prints its own table (``printers``: its PrintReport, ProgressBar): the
        console view then prints none, only the line with the Slack message's link."""
        if printers:
            for view in self._consoles:
                view.table = False

    def _repr_mimebundle_(self, include=None, exclude=None):
        # display(report) / a cell's last value: the live widget when one shows
        # this run, else text/plain and text/html of the same report.
        from slacknb.views.notebook import mimebundle

        return mimebundle(self._run.frame())

    def __repr__(self) -> str:
        return f"<SlackReport {self._run.state.status} slack={self._run.mirror.state.status}>"
