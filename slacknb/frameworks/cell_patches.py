"""One ``%%slackreport`` cell's patches: one per training framework installed here.

Chainer's ``Trainer.run`` (:mod:`slacknb.frameworks.chainer_patch`) and ppe's managers
(:mod:`slacknb.frameworks.ppe_patch`) are patched for the cell's duration, each only
when its framework is installed, so a PyTorch user needs no Chainer and the other way
round. A framework that is installed but does not import (Chainer with setuptools 74 or
later, see the README) is skipped with one warning that says why.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from contextlib import ExitStack
from typing import Callable

__all__ = ["CellPatches"]


class CellPatches:
    """Context manager: every installed framework reports the trainings the block starts.

    ``report_keywords(log_report_name)`` gives the keywords of each new ``SlackReport``.
    Like each patch, it tells afterwards which trainings ran (:attr:`trainers`), whether
    an exception ended one of them (:meth:`raised`) and how far they got (:attr:`iterations`).
    """

    def __init__(self, report_keywords: Callable[[str], dict]):
        self.patches = []
        for module, make in _FRAMEWORKS:
            if importlib.util.find_spec(module) is None:
                continue
            if module in _WHEN_IMPORTED and module not in sys.modules:
                continue
            try:
                self.patches.append(make(report_keywords))
            except ImportError as exc:
                if module not in _warned:
                    _warned.add(module)
                    warnings.warn(f"slacknb: {module} is installed but does not import, so %%slackreport "
                                  f"does not report its trainings: {exc}", RuntimeWarning, stacklevel=2)
        self._stack = ExitStack()

    @property
    def trainers(self) -> list:
        return [trainer for patch in self.patches for trainer in patch.trainers]

    def raised(self, exc: BaseException | None) -> bool:
        return any(patch.raised(exc) for patch in self.patches)

    @property
    def iterations(self) -> int:
        return max((patch.iterations for patch in self.patches), default=0)

    def __enter__(self) -> "CellPatches":
        with ExitStack() as stack:
            for patch in self.patches:
                stack.enter_context(patch)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info):
        return self._stack.__exit__(*exc_info)


def _chainer(report_keywords):
    from slacknb.frameworks.chainer import SlackReport
    from slacknb.frameworks.chainer_patch import TrainerPatch, attach_report

    def make_report(log_report):
        return SlackReport(**{**report_keywords(log_report), **_trial_keywords()})

    return TrainerPatch(lambda trainer: attach_report(trainer, make_report, report_type=SlackReport))


def _ppe(report_keywords):
    from slacknb.frameworks.ppe import SlackReport
    from slacknb.frameworks.ppe_patch import ManagerPatch, attach_report

    def make_report(log_report):
        return SlackReport(**{**report_keywords(log_report), **_trial_keywords()})

    return ManagerPatch(lambda manager: attach_report(manager, make_report, report_type=SlackReport))


def _optuna(report_keywords):
    from slacknb.frameworks.optuna import SlackBoard
    from slacknb.frameworks.optuna_patch import StudyPatch
    from slacknb.options import BOARD_OPTIONS

    def make_board(study):
        keywords = report_keywords("LogReport")
        return SlackBoard(study, **{name: keywords[name] for name in BOARD_OPTIONS if name in keywords})

    return StudyPatch(make_board)


def _trial_keywords() -> dict:
    """``trial=`` the Optuna trial whose objective runs here under a board (else nothing)."""
    board = sys.modules.get("slacknb.frameworks.optuna")
    trial = board.current_trial() if board is not None else None
    return {"trial": trial} if trial is not None else {}


# Each framework: the module that says it is installed, and the patch that reports its runs.
_FRAMEWORKS = (("chainer", _chainer), ("pytorch_pfn_extras", _ppe), ("optuna", _optuna))
# Patched only when already imported: importing Optuna costs a second no other cell should pay.
_WHEN_IMPORTED = ("optuna",)
_warned: set = set()
