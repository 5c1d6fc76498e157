"""slacknb never raises into training: one decorator turns a fault into one warning."""

from __future__ import annotations

import functools
import warnings
from typing import Callable

__all__ = ["guarded"]


def guarded(what: str, *, stand_down: bool = False) -> Callable:
    """Decorate a method so that an ``Exception`` it raises becomes ONE ``RuntimeWarning``.

    The warning reads ``"slacknb: <what> (<Type>: <message>)"``; the call returns None. With
    ``stand_down`` the object makes no further call of its guarded methods after a fault (a
    broken display); without it, later calls run again (a bug in one step of a run).
    The object's ``_faulted`` attribute records that it warned.
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if stand_down and getattr(self, "_faulted", False):
                return None
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - training must go on
                if not getattr(self, "_faulted", False):
                    self._faulted = True
                    warnings.warn(f"slacknb: {what} ({type(exc).__name__}: {exc})", RuntimeWarning, stacklevel=2)
                return None

        return wrapper

    return decorate
