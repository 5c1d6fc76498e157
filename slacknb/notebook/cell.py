"""A notebook cell as a job: its body run the way ``%%time`` runs it, and its own report.

Used by the ``%%slackreport`` magic (:mod:`slacknb.notebook.magic`) for what is not
Chainer's: running the cell body, and reporting a cell that no trainer
reported (the ``%%notify`` use case).
"""

from __future__ import annotations

import ast
import threading
import warnings
from typing import Callable

from IPython.core.displayhook import DisplayHook

from slacknb.core.outcome import Ending
from slacknb.run import ReportRun, default_views
from slacknb.runtime.clock import SYSTEM, Clock

__all__ = ["CellBody", "CellJob", "make_cell_run"]


class CellBody:
    """A cell body compiled as ``%%time`` compiles it; :meth:`run` returns its last expression's value."""

    def __init__(self, shell, cell: str):
        __tracebackhide__ = True
        self.shell = shell
        # One blank line stands for the magic line, so traceback line numbers match the cell.
        source = "\n" + shell.transform_cell(cell)
        filename = shell.compile.cache(source, shell.execution_count)
        tree = shell.transform_ast(shell.compile.ast_parse(source, filename=filename))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        self._code = shell.compile(tree, filename, "exec")
        self._last = shell.compile(last, filename, "eval") if last is not None else None
        self._quiet = _ends_with_semicolon(source)

    def run(self):
        __tracebackhide__ = True
        namespace = self.shell.user_ns
        exec(self._code, namespace)
        if self._last is None:
            return None
        value = eval(self._last, namespace)
        return None if self._quiet else value


def _ends_with_semicolon(source: str) -> bool:
    try:
        return bool(DisplayHook.semicolon_at_end_of_expression(source))
    except Exception:  # noqa: BLE001 - tokenize errors: the compiler already accepted it
        return False


def make_cell_run(options, views: list, *, label: str) -> ReportRun:
    """A :class:`ReportRun` for a cell reported as one job (no trainer reported it)."""
    # A job without a trainer has no iteration boundary to stop at: no Slack Stop button.
    run = ReportRun.from_options(options, views=views, label=label, stop_button=False)
    # No log will come: the table's place says what the job is doing instead.
    run.state.waiting = "running the cell"
    return run


class CellJob:
    """A cell reported as one job when no trainer reports it.

    Whether a trainer will run is unknown when the cell starts. So the job is
    posted when the cell has run ``grace`` seconds without starting one (from a
    timer thread, Slack only: widgets are displayed from the cell's thread), or
    when the cell ends, if no trainer reported how it ended. ``make_run(views)``
    builds the job's :class:`ReportRun`.
    """

    def __init__(self, make_run: Callable[[list], ReportRun], *, label: str, grace: float, early: bool,
                 has_trainers: Callable[[], bool], clock: Clock = SYSTEM):
        self._make_run = make_run
        self._label = label
        self._has_trainers = has_trainers
        self._clock = clock
        self._started_at = clock.now()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self.run: ReportRun | None = None
        self._thread = None
        if early:
            self._thread = threading.Thread(target=self._post_early, args=(grace,),
                                            name="slacknb-cell-job", daemon=True)
            self._thread.start()

    @property
    def posted_early(self) -> bool:
        """True when the job was posted while the cell still ran."""
        return self.run is not None

    def _post_early(self, grace: float) -> None:
        if self._stop.wait(grace):
            return
        with self._lock:
            if self._closed or self._has_trainers():
                return
            run = self._make_run([])
            run.record(elapsed=self._clock.now() - self._started_at, render=False)
            run.start(label=self._label)
            self.run = run

    def end(self, ending: Ending, *, reported: bool, iterations: int) -> None:
        """The cell ended (or a signal ended it: Terminated): report it, once, unless a trainer
        reported this ending and nothing was posted (``reported``: a trainer in the cell reported
        it, so the job alerts nobody)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            run = self.run
        if run is None and reported:
            return
        try:
            views = default_views()
            elapsed = self._clock.now() - self._started_at
            if run is None:
                run = self.run = self._make_run(views)
                run.record(elapsed=elapsed, render=False)
                run.start(label=self._label)
            else:
                run.add_views(views)
            run.record(elapsed=elapsed, iterations=iterations, render=False)
            run.finish(ending)
        except Exception as exc:  # noqa: BLE001 - the cell's own outcome must come through unchanged
            warnings.warn(f"slacknb: the cell could not be reported ({type(exc).__name__}: {exc})",
                          RuntimeWarning, stacklevel=2)

    def wait_delivered(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the job's end to be in Slack (False: no job was posted)."""
        run = self.run
        return run is not None and run.mirror.wait_delivered(timeout, essential=True)
