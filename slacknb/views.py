"""Which local views a report gets, depending on where it runs."""

from __future__ import annotations

from typing import TextIO

from .console import ConsoleView
from .context import in_kernel


def default_views(out: TextIO | None = None) -> list:
    """In a Jupyter kernel the live notebook view; elsewhere the console table.

    An explicit ``out`` stream always gets the console table as well.
    """
    views = []
    if in_kernel():
        from .notebook_view import NotebookView

        views.append(NotebookView())
        if out is not None:
            views.append(ConsoleView(out))
    else:
        views.append(ConsoleView(out))
    return views
