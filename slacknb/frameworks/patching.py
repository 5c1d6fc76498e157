"""One framework method replaced while a ``%%slackreport`` cell runs: what the Chainer and ppe patches share.

A :class:`MethodPatch` subclass names the method (``owner`` and ``method``) and
how to wrap it (``_wrap``). The class attribute is replaced only while at least
one patch of that subclass is active, and the exact original function is put
back when the last one ends, on errors too and whatever order nested patches end
in. The innermost active patch attaches the report; ``attach`` failing becomes
one warning, and training runs without the report.
"""

from __future__ import annotations

import threading
import warnings
from typing import Callable

from slacknb.frameworks.common import trigger_spec

__all__ = ["DEFAULT_TRIGGER", "MethodPatch", "attach_with_log_report", "extensions_of"]

DEFAULT_TRIGGER = (1, "epoch")


class MethodPatch:
    """Context manager: ``owner.method`` is ``_wrap(original)`` while any patch of the subclass is active."""

    owner: type
    method: str

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Each framework's patch keeps its own stack, lock and original.
        cls._lock = threading.RLock()
        cls._active: list[MethodPatch] = []
        cls._original = None

    def __init__(self, attach: Callable[[object], object], *, what: str):
        if not callable(attach):
            raise TypeError(f"attach must be a callable taking a {what}")
        self.attach = attach
        self.trainers: list = []
        self._warned = False

    @classmethod
    def is_active(cls) -> bool:
        """True while some patch of this class is active."""
        with cls._lock:
            return bool(cls._active)

    @classmethod
    def _wrap(cls, original):
        raise NotImplementedError

    @classmethod
    def _patches(cls) -> list:
        with cls._lock:
            return list(cls._active)

    def __enter__(self):
        cls = type(self)
        with cls._lock:
            if not cls._active:
                cls._original = cls.owner.__dict__[cls.method]
                setattr(cls.owner, cls.method, cls._wrap(cls._original))
            cls._active.append(self)
        return self

    def __exit__(self, *exc_info) -> None:
        cls = type(self)
        with cls._lock:
            # Remove this patch wherever it is: nested cells may end out of order
            # (a generator, a thread), and the others must stay in force.
            for index in range(len(cls._active) - 1, -1, -1):
                if cls._active[index] is self:
                    del cls._active[index]
                    break
            if not cls._active and cls._original is not None:
                setattr(cls.owner, cls.method, cls._original)
                cls._original = None

    def _attach(self, target):
        """``attach(target)``'s result, or None (and one warning) when it raised."""
        try:
            return self.attach(target)
        except Exception as exc:  # noqa: BLE001 - reporting must never stop training
            if not self._warned:
                self._warned = True
                warnings.warn(f"slacknb: could not attach a SlackReport ({type(exc).__name__}: {exc}); "
                              "training runs without it", RuntimeWarning, stacklevel=4)
            return None


def extensions_of(target, kind: type) -> list[tuple[str, object]]:
    """``(name, extension)`` for every extension of a Chainer trainer or ppe manager that is a ``kind``."""
    # Neither framework lists extensions publicly (ppe not before they start); both keep
    # _extensions, stable in Chainer 7.8.1 (its last release) and ppe 0.9.
    entries = getattr(target, "_extensions", {})
    return [(name, entry.extension) for name, entry in entries.items() if isinstance(entry.extension, kind)]


def attach_with_log_report(target, make_report: Callable[[str], object], *, report_type: type,
                           log_report_type: type):
    """Extend ``target`` with ``make_report(log_report_name)`` unless it has a ``report_type`` already.

    A target without a ``log_report_type`` gets one (every epoch), since the report
    is made of its log; the report runs on the LogReport's trigger, so each new log
    row is reported as soon as it exists. Returns the new report, or None when one
    was there.
    """
    if extensions_of(target, report_type):
        return None
    found = extensions_of(target, log_report_type)
    if not found:
        target.extend(log_report_type(trigger=DEFAULT_TRIGGER))
        found = extensions_of(target, log_report_type)
    name, log_report = found[0]
    report = make_report(name)
    target.extend(report, trigger=trigger_spec(getattr(log_report, "_trigger", None), DEFAULT_TRIGGER))
    return report
