"""Which local views a run gets: the notebook widget in a kernel, else the console table."""

from __future__ import annotations

from typing import TextIO

from slacknb.core.context import in_kernel
from slacknb.views.console import ConsoleView

__all__ = ["default_views"]


def default_views(out: TextIO | None = None, *, plot=None) -> list:
    """In a Jupyter kernel the live notebook view; elsewhere the console table.

    An explicit ``out`` stream always gets the console table as well; ``plot``
    chooses the notebook chart's entries (the ``plot`` option).
    """
    views = []
    if in_kernel():
        from slacknb.views.notebook import NotebookView

        views.append(NotebookView(plot=plot))
        if out is not None:
            views.append(ConsoleView(out))
    else:
        views.append(ConsoleView(out))
    return views
