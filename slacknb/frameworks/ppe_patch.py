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
import threading
import warnings
from typing import Callable

from pytorch_pfn_extras.training.extensions import LogReport
from pytorch_pfn_extras.training.manager import _BaseExtensionsManager

from slacknb.frameworks.common import trigger_spec

__all__ = ["ManagerPatch", "attach_report", "extensions_of", "is_patched"]

DEFAULT_TRIGGER = (1, "epoch")

_lock = threading.RLock()
_active: list["ManagerPatch"] = []
_original = None  # _BaseExtensionsManager.start_extensions as found when the first patch began


class ManagerPatch:
    """Context manager: a ppe manager starting its extensions calls ``attach(manager)`` first.

    ``attach`` may raise: the failure becomes one warning and training runs
    without it. After the block, :attr:`trainers` lists every manager started
    inside it (nested blocks' included) and :meth:`raised` says whether an
    exception that left the block ended one of the reports attached here.
    """

    def __init__(self, attach: Callable[[object], object]):
        if not callable(attach):
            raise TypeError("attach must be a callable taking a ppe ExtensionsManager")
        self.attach = attach
        self.trainers: list = []
        self.reports: list = []
        self._warned = False

    def raised(self, exc: BaseException | None) -> bool:
        """True when ``exc`` ended one of the reports this block attached."""
        return exc is not None and any(report.ended_by is exc for report in self.reports)

    @property
    def iterations(self) -> int:
        """The most iterations any manager of the block reached (0 without managers)."""
        return max((getattr(m, "_iteration", 0) for m in self.trainers), default=0)

    def __enter__(self) -> "ManagerPatch":
        global _original
        with _lock:
            if not _active:
                _original = _BaseExtensionsManager.__dict__["start_extensions"]
                _BaseExtensionsManager.start_extensions = _wrap(_original)
            _active.append(self)
        return self

    def __exit__(self, kind, exc, tb) -> None:
        global _original
        with _lock:
            for index in range(len(_active) - 1, -1, -1):
                if _active[index] is self:
                    del _active[index]
                    break
            if not _active and _original is not None:
                _BaseExtensionsManager.start_extensions = _original
                _original = None
        if exc is not None:
            # ppe told these reports nothing (an interrupt, a failure between iterations):
            # the exception leaving the cell is their ending.
            for report in self.reports:
                report.end_with(exc)

    def _attach(self, manager) -> None:
        try:
            report = self.attach(manager)
        except Exception as exc:  # noqa: BLE001 - reporting must never stop training
            if not self._warned:
                self._warned = True
                warnings.warn(f"slacknb: could not attach a SlackReport ({type(exc).__name__}: {exc}); "
                              "training runs without it", RuntimeWarning, stacklevel=4)
            return
        if report is not None:
            self.reports.append(report)


def _wrap(original):
    @functools.wraps(original)
    def start_extensions(self):
        # Called on every manager.iteration; only the first call of a manager starts it.
        if not self._start_extensions_called:
            with _lock:
                patches = list(_active)
            for patch in patches:
                patch.trainers.append(self)
            if patches:
                patches[-1]._attach(self)
        return original(self)

    return start_extensions


def is_patched() -> bool:
    """True while some :class:`ManagerPatch` is active."""
    with _lock:
        return bool(_active)


def extensions_of(manager, kind: type) -> list[tuple[str, object]]:
    """``(name, extension)`` for every extension of ``manager`` that is a ``kind``."""
    # ppe has no public listing before the extensions start; _extensions is ppe 0.9's.
    entries = getattr(manager, "_extensions", {})
    return [(name, entry.extension) for name, entry in entries.items() if isinstance(entry.extension, kind)]


def attach_report(manager, make_report: Callable[[str], object], *, report_type: type):
    """Extend ``manager`` with ``make_report(log_report_name)`` unless it has a ``report_type``.

    A manager without a LogReport gets one (every epoch), since the report is made
    of its log; the report runs on the LogReport's trigger. Returns the new report,
    or None when one was there.
    """
    if extensions_of(manager, report_type):
        return None
    found = extensions_of(manager, LogReport)
    if not found:
        manager.extend(LogReport(trigger=DEFAULT_TRIGGER))
        found = extensions_of(manager, LogReport)
    name, log_report = found[0]
    report = make_report(name)
    manager.extend(report, trigger=trigger_spec(getattr(log_report, "_trigger", None), DEFAULT_TRIGGER))
    return report
