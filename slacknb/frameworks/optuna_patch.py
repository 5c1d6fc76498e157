"""Wrap ``optuna.Study.optimize`` while a ``%%slackreport`` cell runs: the study gets a board.

Inside ``with StudyPatch(attach):`` every ``optimize`` of a study that has no
:class:`~slacknb.optuna.SlackBoard` yet first calls ``attach(study)``, which gives it one
(with the cell's options); the board then reports this call like any other. The trials'
trainings, which the cell's Chainer and ppe patches report, become the trials' reports in
the board's thread (:func:`~slacknb.frameworks.optuna.current_trial`). The class
attribute is replaced only while a patch is active (see :mod:`slacknb.frameworks.patching`).
"""

from __future__ import annotations

import functools
from typing import Callable

from optuna.study import Study

from slacknb.frameworks.optuna import has_board
from slacknb.frameworks.patching import MethodPatch

__all__ = ["StudyPatch"]


class StudyPatch(MethodPatch):
    """Context manager: ``Study.optimize`` gives the study a board first, for the block's duration.

    :attr:`trainers` lists the studies optimized inside the block (each reported by its
    board) and :meth:`raised` says whether an exception came out of one's ``optimize``.
    """

    owner = Study
    method = "optimize"
    iterations = 0  # a board counts trials, not iterations

    def __init__(self, attach: Callable[[Study], object]):
        super().__init__(attach, what="optuna Study")
        self._escaped: list[BaseException] = []

    def raised(self, exc: BaseException | None) -> bool:
        """True when ``exc`` came out of an ``optimize`` inside the block."""
        return exc is not None and any(exc is e for e in self._escaped)

    @classmethod
    def _wrap(cls, original):
        @functools.wraps(original)
        def optimize(self, *args, **kwargs):
            patches = cls._patches()
            if has_board(self) or not patches:
                # A board of its own (the user's, or the one attached just now, whose
                # wrapper calls this): Optuna's optimize itself.
                return original(self, *args, **kwargs)
            for patch in patches:
                patch.trainers.append(self)
            if patches[-1]._attach(self) is None or not has_board(self):
                return original(self, *args, **kwargs)
            try:
                return self.optimize(*args, **kwargs)  # now the board's wrapper, on this object
            except BaseException as exc:
                for patch in patches:
                    patch._escaped.append(exc)
                raise

        return optimize
