"""A study board in the notebook: the board as a run's frame, for the report's own views.

The board's rows become the log and its columns the entries of a
:class:`~slacknb.core.state.ReportState`, and its Slack text the preview, so the
notebook widget (:mod:`slacknb.views.widget`) and the text/html fallback show the same
table as Slack, with the Slack panel, exactly as they show a run.
"""

from __future__ import annotations

from slacknb.core.board import BoardRenderer, BoardState, board_columns, board_rows
from slacknb.core.context import in_kernel
from slacknb.core.state import COMPLETED, FAILED, TRAINING, ReportState
from slacknb.run import Frame

__all__ = ["BoardViews"]

# Every trial in the widget's table: a study has tens to hundreds.
MAX_ROWS = 1000


class BoardViews:
    """The local views of one board (``views``: NotebookView-like; None: the notebook widget in a
    kernel, nothing elsewhere), fed with board states; ``renderer`` makes the preview."""

    def __init__(self, views: list | None, renderer: BoardRenderer):
        if views is None:
            views = _notebook_views()
        self.views = list(views)
        self.renderer = renderer
        self.last: Frame | None = None

    def __bool__(self) -> bool:
        return bool(self.views)

    def frame(self, state: BoardState, sync, *, running: bool, elapsed: float, status=None) -> Frame:
        """``state`` as a run's frame: the board's rows as the log, its text as the preview."""
        columns = board_columns(state)
        report = ReportState(status=status or (TRAINING if running else COMPLETED), log=board_rows(state),
                             entries=columns, label=state.study, updated_at=state.updated_at, elapsed=elapsed)
        return Frame(report, columns, self.renderer.render(state), sync)

    def refresh(self, state: BoardState, sync, *, running: bool, elapsed: float) -> None:
        """Show ``state`` (from the board's thread)."""
        if not self.views:
            return
        frame = self.last = self.frame(state, sync, running=running, elapsed=elapsed)
        for view in self.views:
            view.refresh(frame)

    def finish(self, state: BoardState, sync, *, failed: bool, elapsed: float) -> None:
        """Show the final board of an ``optimize`` (from the thread that called it, the cell's)."""
        if not self.views:
            return
        frame = self.last = self.frame(state, sync, running=False, elapsed=elapsed,
                                       status=FAILED if failed else COMPLETED)
        for view in self.views:
            view.finish(frame)


def _notebook_views() -> list:
    if not in_kernel():
        return []
    from slacknb.views.notebook import NotebookView

    # No chart: the board has no loss curve of its own.
    return [NotebookView(plot=[], max_rows=MAX_ROWS)]
