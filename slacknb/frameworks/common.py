"""What every framework's ``SlackReport`` shares: building the run, its public face, its end.

A framework's extension (:mod:`slacknb.frameworks.chainer`,
:mod:`slacknb.frameworks.ppe`) only translates its framework's hooks into
:class:`ReportFace`'s calls: ``_start_report`` when training starts,
``_tick`` on every trigger, ``_end_report`` once with the ending it saw.
"""

from __future__ import annotations

import sys
import warnings

from ..distributed import alert_label, detect_rank, share_message
from ..label import default_label
from ..mirror import SlackMirror
from ..render import DEFAULT_MAX_BYTES, Renderer
from ..report import COMPLETED, FAILED, INTERRUPTED
from ..run import ReportRun
from ..views import default_views

__all__ = ["ReportFace", "ending_status", "progress_of", "check_entries"]


def check_entries(entries, min_iterations) -> list | None:
    """``entries`` as a list (or None); TypeError/ValueError naming the fix."""
    if entries is not None and (isinstance(entries, str) or not all(isinstance(e, str) for e in entries)):
        raise TypeError("entries must be a list of observation keys such as "
                        "['epoch', 'main/loss'], or None to pick them from the log")
    if isinstance(min_iterations, bool) or not isinstance(min_iterations, int) or min_iterations < 0:
        raise ValueError(f"min_iterations must be a whole number >= 0, not {min_iterations!r}")
    return None if entries is None else list(entries)


def ending_status(error: BaseException | None):
    """The status a run ends with, given the exception that ended it (None: none)."""
    if error is None:
        return COMPLETED
    return FAILED if isinstance(error, Exception) else INTERRUPTED


def progress_of(length_unit, iteration: int, epoch_detail: float) -> float | None:
    """Fraction of ``(length, unit)`` reached, or None when the length is unknown."""
    try:
        length, unit = length_unit
        done = epoch_detail if unit == "epoch" else iteration
        return min(max(done / length, 0.0), 1.0) if length else None
    except Exception:  # noqa: BLE001 - unknown trigger types simply have no progress
        return None


class ReportFace:
    """The framework-neutral half of a ``SlackReport``: the run and what users read of it."""

    def _build_report(self, access_token, channel_id, entries, template, finish_mentions, len_normalizer,
                      *, max_bytes=DEFAULT_MAX_BYTES, min_interval=5.0, flush_timeout=30.0, base_url=None,
                      alert_prefix="", alert="all", min_iterations=0, label=None, local=False, out=None,
                      views=None, console_tail=None, comm=None, delivery_timeout=120.0) -> None:
        self._entries_arg = check_entries(entries, min_iterations)
        renderer = Renderer(template=template, max_bytes=max_bytes, normalizer=len_normalizer)
        rank = detect_rank(comm)
        if label is None:
            label = default_label()
        mirror = SlackMirror(access_token, channel_id, base_url=base_url, mentions=finish_mentions or None,
                             alert_prefix=alert_prefix, min_interval=min_interval,
                             flush_timeout=flush_timeout, delivery_timeout=delivery_timeout, label=label,
                             alert_label=alert_label(label, rank), owns_message=rank.owner, local=local)
        if not rank.owner and comm is None:
            # A launcher's variable, no communicator: rank 0's message cannot be learned
            # (yet), so a failure here is announced in the channel under the (job-wide) label.
            mirror.attach(None, None)
        if views is None:
            # Like ChainerMN's examples, only rank 0 prints: N copies of one table help nobody.
            views = default_views(out=out) if rank.owner else []
        self._run = ReportRun(renderer=renderer, mirror=mirror, views=views, alert=alert,
                              min_iterations=min_iterations)
        self._label = label
        self._comm = comm
        self._rank = rank
        self._console_tail = console_tail

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
        """The run label (rank 0's, on every rank of a multi-process job, once training started)."""
        return self._label

    @property
    def rank(self):
        """This process's :class:`~slacknb.distributed.Rank` (rank 0 of 1 when alone)."""
        return self._rank

    # -- what the framework's hooks call ------------------------------------
    def _share_message(self, comm) -> None:
        """Collective: every rank passes here once, at the start of training."""
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
        self._run.state.label = label
        mirror.attach(*(thread or (None, None)), alert_label=alert_label(label, self._rank))

    def _end_report(self, status, error: BaseException | None, *, last_tick) -> None:
        """Deliver the ending once; ``last_tick()`` records the final elapsed and progress first."""
        if self._run.finished:
            return
        try:
            last_tick()
            tail = self._console_tail() if self._console_tail is not None else None
        except Exception as exc:  # noqa: BLE001 - this runs while the training's own error
            # propagates: raising here would replace it.
            warnings.warn(f"slacknb: the end of the run is reported without its last details "
                          f"({type(exc).__name__}: {exc})", RuntimeWarning)
            tail = None
        self._run.finish(status, error=error if status == FAILED else None, console_tail=tail)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # display(report) / a cell's last value: the live widget when one shows
        # this run, else text/plain and text/html of the same report.
        from ..notebook_view import mimebundle

        return mimebundle(self._run.frame())

    def __repr__(self) -> str:
        return f"<SlackReport {self._run.state.status} slack={self._run.mirror.state.status}>"


def exception_in_flight(outer: BaseException | None) -> BaseException | None:
    """The exception being handled now, unless it is ``outer`` (handled around the training)."""
    in_flight = sys.exc_info()[1]
    return None if in_flight is outer else in_flight
