"""Warnings that point at the user's line: the first frame outside slacknb and the training frameworks.

A warning about a run is raised from deep inside a trainer's extension or a magic; Python would
show ``slacknb/run.py:187``. :func:`warn` walks out to the line the user wrote (the script's
``trainer.run()``, the notebook cell) and warns there, so the warning reads as theirs to act on.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["INTERNAL", "warn"]

INTERNAL = ("slacknb", "chainer", "chainermn", "pytorch_pfn_extras", "torch", "optuna", "IPython", "ipykernel",
            "traitlets", "contextlib")
"""Top-level packages whose frames are never the user's line."""


def warn(text: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(text, category)`` at the user's line (the outermost caller when all is internal)."""
    frame = sys._getframe(1)
    level = 2
    while frame is not None and _internal(frame):
        if frame.f_back is None:
            break
        frame = frame.f_back
        level += 1
    warnings.warn(text, category, stacklevel=level)


def _internal(frame) -> bool:
    name = frame.f_globals.get("__name__", "") or ""
    return name.split(".", 1)[0] in INTERNAL
