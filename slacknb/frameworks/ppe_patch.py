"""Report every ppe ``ExtensionsManager`` that starts training while a ``%%slackreport`` cell runs.

ppe trains two ways (``Trainer.run`` and a hand-written loop), but both start
through one method: ``start_extensions``, which every manager calls once before
its first iteration (from ``run_iteration``, ``stop_trigger`` or ``iteration``),
while extensions may still be added. Inside ``with ManagerPatch(attach):`` that
method first calls ``attach(manager)`` (which gives the manager a
:class:`slacknb.ppe.SlackReport`, and a LogReport when it has none), then starts
the extensions unchanged. The class attribute is replaced only while at least one
patch is active, and the exact original is put back when the last one ends, on
errors too and whatever order nested patches end in (as
:mod:`slacknb.frameworks.chainer_patch` does for Chainer).

ppe calls no extension hook for a ``KeyboardInterrupt`` or for an exception
between iterations; the cell's exception reaches the patch's ``__exit__``, which
ends every report it attached that is still open with it, so the magic knows the
ending was reported.
"""

from __future__ import annotations

import functools
from typing import Callable

from pytorch_pfn_extras.training.extensions import LogReport
from pytorch_pfn_extras.training.manager import _BaseExtensionsManager

from slacknb.frameworks.patching import MethodPatch, attach_with_log_report, extensions_of

__all__ = ["ManagerPatch", "attach_report", "extensions_of", "is_patched"]


class ManagerPatch(MethodPatch):
    """Context manager: a ppe manager starting its extensions calls ``attach(manager)`` first.

    ``attach`` may raise: the failure becomes one warning and training runs
    without it. After the block, :attr:`trainers` lists every manager started
    inside it (nested blocks' included) and :meth:`raised` says whether an
    exception that left the block ended one of the reports attached here.
    """

    owner = _BaseExtensionsManager
    method = "start_extensions"

    def __init__(self, attach: Callable[[object], object]):
        super().__init__(attach, what="ppe ExtensionsManager")
        self.reports: list = []

    def raised(self, exc: BaseException | None) -> bool:
        """True when ``exc`` ended one of the reports this block attached."""
        return exc is not None and any(report.ended_by is exc for report in self.reports)

    @property
    def iterations(self) -> int:
        """The most iterations any manager of the block reached (0 without managers)."""
        return max((getattr(m, "_iteration", 0) for m in self.trainers), default=0)

    def __exit__(self, kind, exc, tb) -> None:
        super().__exit__(kind, exc, tb)
        if exc is not None:
            # ppe told these reports nothing (an interrupt, a failure between iterations):
            # the exception leaving the cell is their ending.
            for report in self.reports:
                report.end_with(exc)

    @classmethod
    def _wrap(cls, original):
        @functools.wraps(original)
        def start_extensions(self):
            # Called on every manager.iteration; only the first call of a manager starts it.
            if not self._start_extensions_called:
                patches = cls._patches()
                for patch in patches:
                    patch.trainers.append(self)
                if patches:
                    report = patches[-1]._attach(self)
                    if report is not None:
                        patches[-1].reports.append(report)
            return original(self)

        return start_extensions


def is_patched() -> bool:
    """True while some :class:`ManagerPatch` is active."""
    return ManagerPatch.is_active()


def attach_report(manager, make_report: Callable[[str], object], *, report_type: type):
    """Extend ``manager`` with ``make_report(log_report_name)`` unless it has a ``report_type``.

    A manager without a LogReport gets one (every epoch), since the report is made
    of its log; the report runs on the LogReport's trigger. Returns the new report,
    or None when one was there.
    """
    return attach_with_log_report(manager, make_report, report_type=report_type, log_report_type=LogReport)
