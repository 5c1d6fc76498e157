"""Wrap ``chainer.training.Trainer.run`` while a ``%%slackreport`` cell runs.

Inside ``with TrainerPatch(attach):`` every ``Trainer.run`` call first calls
``attach(trainer)`` (which gives the trainer a :class:`~slacknb.SlackReport`),
then runs the training loop unchanged. The class attribute is replaced only
while at least one patch is active, and the exact original function is put back
when the last one ends, on errors too and whatever order nested patches end in.

With nested patches (a ``%%slackreport`` cell run from inside another) the
innermost attaches, and every active patch learns about each run and about the
exceptions that escaped it, so an outer cell knows its trainers reported.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Callable

from chainer.training import Trainer
from chainer.training.extensions import LogReport

from slacknb.frameworks.common import trigger_spec

DEFAULT_TRIGGER = (1, "epoch")

_lock = threading.RLock()
_active: list["TrainerPatch"] = []
_original = None  # Trainer.run as found when the first patch began


class TrainerPatch:
    """Context manager: ``Trainer.run`` calls ``attach(trainer)`` first, for the block's duration.

    ``attach`` may raise: the failure becomes one warning and training runs
    without it. After the block, :attr:`trainers` lists every trainer run
    inside it (nested blocks' included) and :meth:`raised` says whether an
    exception came out of one of their ``run`` calls.
    """

    def __init__(self, attach: Callable[[Trainer], object]):
        if not callable(attach):
            raise TypeError("attach must be a callable taking a chainer Trainer")
        self.attach = attach
        self.trainers: list[Trainer] = []
        self._escaped: list[BaseException] = []
        self._warned = False

    def raised(self, exc: BaseException | None) -> bool:
        """True when ``exc`` came out of a ``Trainer.run`` inside the block."""
        return exc is not None and any(exc is e for e in self._escaped)

    @property
    def iterations(self) -> int:
        """The most iterations any trainer of the block reached (0 without trainers)."""
        return max((t.updater.iteration for t in self.trainers), default=0)

    def __enter__(self) -> "TrainerPatch":
        global _original
        with _lock:
            if not _active:
                _original = Trainer.__dict__["run"]
                Trainer.run = _wrap(_original)
            _active.append(self)
        return self

    def __exit__(self, *exc_info) -> None:
        global _original
        with _lock:
            # Remove this patch wherever it is: nested cells may end out of order
            # (a generator, a thread), and the others must stay in force.
            for index in range(len(_active) - 1, -1, -1):
                if _active[index] is self:
                    del _active[index]
                    break
            if not _active and _original is not None:
                Trainer.run = _original
                _original = None

    # -- called by the wrapper ------------------------------------------------

    def _attach(self, trainer: Trainer) -> None:
        try:
            self.attach(trainer)
        except Exception as exc:  # noqa: BLE001 - reporting must never stop training
            if not self._warned:
                self._warned = True
                warnings.warn(f"slacknb: could not attach a SlackReport ({type(exc).__name__}: {exc}); "
                              "training runs without it", RuntimeWarning, stacklevel=4)


def _wrap(original):
    @functools.wraps(original)
    def run(self, *args, **kwargs):
        with _lock:
            # A trainer that already ran only raises "cannot run training loop
            # multiple times": nothing to report, and no run to count.
            patches = [] if getattr(self, "_done", False) else list(_active)
        for patch in patches:
            patch.trainers.append(self)
        if patches:
            patches[-1]._attach(self)
        try:
            return original(self, *args, **kwargs)
        except BaseException as exc:
            for patch in patches:
                patch._escaped.append(exc)
            raise

    return run


def is_patched() -> bool:
    """True while some :class:`TrainerPatch` is active."""
    with _lock:
        return bool(_active)


def extensions_of(trainer: Trainer, kind: type) -> list[tuple[str, object]]:
    """``(name, extension)`` for every extension of ``trainer`` that is a ``kind``."""
    # Chainer has no public listing of extensions; _extensions is stable in 7.8.1, its last release.
    entries = getattr(trainer, "_extensions", {})
    return [(name, entry.extension) for name, entry in entries.items() if isinstance(entry.extension, kind)]


def ensure_log_report(trainer: Trainer) -> tuple[str, tuple]:
    """The name of ``trainer``'s LogReport and its trigger as ``(period, unit)``.

    A trainer without one gets ``LogReport()`` (every epoch), since the report
    is made of its log.
    """
    found = extensions_of(trainer, LogReport)
    if not found:
        trainer.extend(LogReport(trigger=DEFAULT_TRIGGER))
        found = extensions_of(trainer, LogReport)
    name, log_report = found[0]
    return name, trigger_spec(getattr(log_report, "_trigger", None), DEFAULT_TRIGGER)


def attach_report(trainer: Trainer, make_report: Callable[[str], object], *, report_type: type):
    """Extend ``trainer`` with ``make_report(log_report_name)`` unless it has a ``report_type`` already.

    The report runs on the LogReport's trigger, so each new log row is reported
    as soon as it exists. Returns the new report, or None when one was there.
    """
    if extensions_of(trainer, report_type):
        return None
    name, trigger = ensure_log_report(trainer)
    report = make_report(name)
    trainer.extend(report, trigger=trigger)
    return report
