"""One ``%%slackreport`` cell's patches: one per training framework the cell uses.

Chainer's ``Trainer.run`` (:mod:`slacknb.frameworks.chainer_patch`), ppe's managers
(:mod:`slacknb.frameworks.ppe_patch`) and Optuna's ``Study.optimize``
(:mod:`slacknb.frameworks.optuna_patch`: the study gets a board, and the trainings in its
trials become the trials' reports) are patched for the cell's duration, each only when its
framework is already imported or when the cell imports it (an import watch sees the cell's
``import torch``-style line finish, then patches): a Chainer notebook never pays for importing
torch, nor a PyTorch notebook for Chainer's warnings. A framework that does not import (Chainer
with setuptools 74 or later, see the README) is skipped with one warning that says why.
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.util
import sys
import threading
import warnings
from contextlib import ExitStack
from typing import Callable

__all__ = ["CellPatches"]


class CellPatches:
    """Context manager: every framework the block uses reports the trainings it starts.

    Each report is made from ``options`` (checked once, by the magic) with the trainer's own
    LogReport, and ``console_tail`` for its failure alert. Like each patch, it tells afterwards
    which trainings ran (:attr:`trainers`), whether an exception ended one of them
    (:meth:`raised`) and how far they got (:attr:`iterations`).
    """

    def __init__(self, options, *, console_tail: Callable[[], str] | None = None):
        self._options = options
        self._console_tail = console_tail
        self.patches: list = []
        self._stack = ExitStack()
        self._watch: _ImportWatch | None = None
        self._lock = threading.Lock()

    @property
    def trainers(self) -> list:
        return [trainer for patch in self.patches for trainer in patch.trainers]

    def raised(self, exc: BaseException | None) -> bool:
        return any(patch.raised(exc) for patch in self.patches)

    @property
    def iterations(self) -> int:
        return max((patch.iterations for patch in self.patches), default=0)

    def __enter__(self) -> "CellPatches":
        waiting = []
        for module, make in _FRAMEWORKS:
            if module in sys.modules:
                self._patch(module, make)
            elif importlib.util.find_spec(module) is not None:
                waiting.append(module)
        if waiting:
            self._watch = _ImportWatch(waiting, self._imported)
            sys.meta_path.insert(0, self._watch)
        return self

    def __exit__(self, *exc_info):
        if self._watch is not None:
            try:
                sys.meta_path.remove(self._watch)
            except ValueError:
                pass
        return self._stack.__exit__(*exc_info)

    def _imported(self, module: str) -> None:
        """The cell imported ``module``: report its trainings from now on."""
        self._patch(module, dict(_FRAMEWORKS)[module])

    def _patch(self, module: str, make) -> None:
        with self._lock:
            try:
                patch = make(self)
            except ImportError as exc:
                if module not in _warned:
                    _warned.add(module)
                    warnings.warn(f"slacknb: {module} is installed but does not import, so %%slackreport "
                                  f"does not report its trainings: {exc}", RuntimeWarning, stacklevel=2)
                return
            self._stack.enter_context(patch)
            self.patches.append(patch)

    def _report(self, report_type, log_report: str):
        """A ``report_type`` (a framework's SlackReport) for one training, on its ``log_report``."""
        options = dataclasses.replace(self._options, log_report=log_report, trial=_current_trial())
        return report_type.from_options(options, console_tail=self._console_tail)

    def _board(self, study):
        """A study's board (:class:`slacknb.optuna.SlackBoard`) with the cell's options."""
        from slacknb.frameworks.optuna import SlackBoard
        from slacknb.options import BOARD_OPTIONS

        return SlackBoard(study, **{name: getattr(self._options, name) for name in BOARD_OPTIONS})


class _ImportWatch(importlib.abc.MetaPathFinder):
    """Calls ``imported(name)`` once a watched top-level module has finished importing."""

    def __init__(self, names: list[str], imported: Callable[[str], None]):
        self._names = set(names)
        self._imported = imported
        self._finding = threading.local()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self._names or getattr(self._finding, "on", False):
            return None
        self._finding.on = True
        try:  # the spec the other finders give, with a loader that tells us when it is done
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.on = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        self._names.discard(fullname)
        spec.loader = _Announcing(spec.loader, lambda: self._imported(fullname))
        return spec


class _Announcing(importlib.abc.Loader):
    """A loader that runs ``done()`` after the module it wraps was executed."""

    def __init__(self, loader, done: Callable[[], None]):
        self._loader = loader
        self._done = done

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        self._done()

    def __getattr__(self, name):  # get_resource_reader, is_package, ...: the real loader's
        return getattr(self._loader, name)


def _chainer(cell):
    from slacknb.frameworks.chainer import SlackReport
    from slacknb.frameworks.chainer_patch import TrainerPatch, attach_report

    return TrainerPatch(lambda trainer: attach_report(trainer, lambda name: cell._report(SlackReport, name),
                                                      report_type=SlackReport))


def _ppe(cell):
    from slacknb.frameworks.ppe import SlackReport
    from slacknb.frameworks.ppe_patch import ManagerPatch, attach_report

    return ManagerPatch(lambda manager: attach_report(manager, lambda name: cell._report(SlackReport, name),
                                                      report_type=SlackReport))


def _optuna(cell):
    from slacknb.frameworks.optuna_patch import StudyPatch

    return StudyPatch(cell._board)


def _current_trial():
    """The Optuna trial whose objective runs on this thread under a board (else None)."""
    board = sys.modules.get("slacknb.frameworks.optuna")
    return board.current_trial() if board is not None else None


# Each framework: the module whose import says it is in use, and the patch that reports its runs.
_FRAMEWORKS = (("chainer", _chainer), ("pytorch_pfn_extras", _ppe), ("optuna", _optuna))
_warned: set = set()
