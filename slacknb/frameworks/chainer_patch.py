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
from typing import Callable

from chainer.training import Trainer
from chainer.training.extensions import LogReport

from slacknb.frameworks.patching import MethodPatch, attach_with_log_report, extensions_of

__all__ = ["TrainerPatch", "attach_report", "extensions_of", "is_patched"]


class TrainerPatch(MethodPatch):
    """Context manager: ``Trainer.run`` calls ``attach(trainer)`` first, for the block's duration.

    ``attach`` may raise: the failure becomes one warning and training runs
    without it. After the block, :attr:`trainers` lists every trainer run
    inside it (nested blocks' included) and :meth:`raised` says whether an
    exception came out of one of their ``run`` calls.
    """

    owner = Trainer
    method = "run"

    def __init__(self, attach: Callable[[Trainer], object]):
        super().__init__(attach, what="chainer Trainer")
        self._escaped: list[BaseException] = []

    def raised(self, exc: BaseException | None) -> bool:
        """True when ``exc`` came out of a ``Trainer.run`` inside the block."""
        return exc is not None and any(exc is e for e in self._escaped)

    @property
    def iterations(self) -> int:
        """The most iterations any trainer of the block reached (0 without trainers)."""
        return max((t.updater.iteration for t in self.trainers), default=0)

    @classmethod
    def _wrap(cls, original):
        @functools.wraps(original)
        def run(self, *args, **kwargs):
            # A trainer that already ran only raises "cannot run training loop
            # multiple times": nothing to report, and no run to count.
            patches = [] if getattr(self, "_done", False) else cls._patches()
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
    return TrainerPatch.is_active()


def attach_report(trainer: Trainer, make_report: Callable[[str], object], *, report_type: type):
    """Extend ``trainer`` with ``make_report(log_report_name)`` unless it has a ``report_type`` already.

    A trainer without a LogReport gets ``LogReport()`` (every epoch); the report
    runs on the LogReport's trigger. Returns the new report, or None when one was there.
    """
    return attach_with_log_report(trainer, make_report, report_type=report_type, log_report_type=LogReport)
