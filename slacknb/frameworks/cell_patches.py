"""One ``%%slackreport`` cell's patches: one per training framework installed here.

Chainer's ``Trainer.run`` (:mod:`slacknb.frameworks.chainer_patch`) and ppe's managers
(:mod:`slacknb.frameworks.ppe_patch`) are patched for the cell's duration, each only
when its framework is installed, so a PyTorch user needs no Chainer and the other way
round. A framework that is installed but does not import (Chainer with setuptools 74 or
later, see the README) is skipped with one warning that says why.
"""

from __future__ import annotations

import importlib.util
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
        return SlackReport(**report_keywords(log_report))

    return TrainerPatch(lambda trainer: attach_report(trainer, make_report, report_type=SlackReport))


def _ppe(report_keywords):
    from slacknb.frameworks.ppe import SlackReport
    from slacknb.frameworks.ppe_patch import ManagerPatch, attach_report

    def make_report(log_report):
        return SlackReport(**report_keywords(log_report))

    return ManagerPatch(lambda manager: attach_report(manager, make_report, report_type=SlackReport))


# Each framework: the module that says it is installed, and the patch that reports its runs.
_FRAMEWORKS = (("chainer", _chainer), ("pytorch_pfn_extras", _ppe))
_warned: set = set()
