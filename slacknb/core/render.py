"""The one renderer: report state -> the exact text Slack gets (and the notebook previews).

Order of work, so that the byte budget is honest: escape every text slacknb did
not author, then measure, then let the normalizer choose the rows that fit,
then scrub secrets (core/scrub.py) and cut to the budget last. Rows are
formatted and escaped once and cached (table.AlignedRows), so a render costs
what fits in the budget, not what the log holds. No logged value makes a
render raise (core/table.py shows it as text, or as ``?``).
"""

from __future__ import annotations

import numbers
import operator
from typing import Mapping, Sequence

__all__ = ["CUT_MARKER", "DEFAULT_MAX_BYTES", "MAX_MAX_BYTES", "MIN_MAX_BYTES", "Renderer", "check_max_bytes",
           "cut_utf8", "format_hms", "progress_bar", "utf8_len"]

from slacknb.core.context import RunContext
from slacknb.core.scrub import Scrubber
from slacknb.core.slack_text import (CUT_MARKER, FENCE, cut, cut_utf8, encodable, escape, inline_code_safe, slack_date,
                                     utf8_len)
from slacknb.core.normalize import check_strategy, select_rows
from slacknb.core.state import ReportState
from slacknb.core.table import AlignedRows, empty_layout, layout_widths, merge_layout, pick_entries
from slacknb.core.template import DEFAULT_TEMPLATE, Template
from slacknb.core.trend import trend

DEFAULT_MAX_BYTES = 4000
# Below this not even a status line and a cut marker fit; above it Slack
# refuses chat.postMessage text outright (40,000 characters).
MIN_MAX_BYTES, MAX_MAX_BYTES = 256, 40000
# Passes of choose-then-widen before the table settles for the widest layout seen.
_MAX_PASSES = 4
# How many characters wider than needed a row may be before the table narrows.
_NARROW_AT = 2
# Rows whose widths start a render without a previous layout.
_PREDICT = 8


def check_max_bytes(max_bytes: int) -> int:
    """``max_bytes`` as an int (any integral number: numpy's too), or TypeError/ValueError naming the range."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral):
        raise TypeError(f"max_bytes must be a whole number, not {type(max_bytes).__name__}")
    max_bytes = int(max_bytes)
    if not MIN_MAX_BYTES <= max_bytes <= MAX_MAX_BYTES:
        raise ValueError(
            f"max_bytes={max_bytes} is out of range: use {MIN_MAX_BYTES} to {MAX_MAX_BYTES} "
            f"(default {DEFAULT_MAX_BYTES}, Slack's limit for edited messages)"
        )
    return max_bytes


def format_hms(seconds: float | None) -> str:
    """Whole seconds as H:MM:SS ('' when unknown)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    total = int(seconds)
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def progress_bar(fraction: float | None, width: int = 10) -> str:
    """A text bar and percent, e.g. '[####------] 40%' ('' when unknown)."""
    if fraction is None or fraction != fraction:
        return ""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(fraction * width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {int(fraction * 100)}%"


class _AutoEntries:
    """Columns for entries=None, updated from the rows added since last time."""

    def __init__(self):
        self._log_id = None
        self._scanned = 0
        self._keys: dict[str, None] = {}
        self._entries: tuple = ()

    def get(self, log: Sequence[Mapping]) -> tuple:
        if id(log) != self._log_id or len(log) < self._scanned:
            self._log_id, self._scanned, self._keys = id(log), 0, {}
        if self._scanned < len(log):
            before = len(self._keys)
            for observation in log[self._scanned:]:
                for key in observation:
                    self._keys.setdefault(key)
            self._scanned = len(log)
            if len(self._keys) != before or not self._entries:
                self._entries = tuple(pick_entries([self._keys]))
        return self._entries


class Renderer:
    """Renders a ``ReportState`` into the Slack message text.

    The whole message (template, content and mentions) fits ``max_bytes``
    UTF-8 bytes; ``normalizer`` chooses which rows are shown when the log does
    not fit. ``scrub`` hides secrets in the text (default: token shapes and
    webhook URLs only; a run passes one that knows its tokens).
    """

    def __init__(self, *, template: str | Template = DEFAULT_TEMPLATE,
                 max_bytes: int = DEFAULT_MAX_BYTES, normalizer: str = "thin_out",
                 context: RunContext | None = None, scrub: Scrubber | None = None):
        self.template = template if isinstance(template, Template) else Template(template)
        self.max_bytes = check_max_bytes(max_bytes)
        self.scrub = scrub if scrub is not None else Scrubber()
        self.normalizer = check_strategy(normalizer)
        self.context = context if context is not None else RunContext.detect()
        self._rows = AlignedRows()
        # The caches are not thread-safe: only the run's thread renders (the Slack worker
        # never calls back into the renderer, it reads the budget the run renders within).
        self._auto_entries = _AutoEntries()

    def entries(self, state: ReportState) -> tuple:
        if state.entries is not None:
            return tuple(state.entries)
        return self._auto_entries.get(state.log)

    def fields(self, state: ReportState) -> dict[str, str]:
        """Every placeholder's value except ``content``, escaped for Slack."""
        ctx = self.context

        def shown(text: str) -> str:
            # The default template shows these inside `inline code`.
            return inline_code_safe(escape(text))

        values = {
            # "Stopped by <@U0ALICE>": the who is slacknb's own markup, not escaped.
            "status": escape(state.status) + (f" {state.stopped_by}" if state.stopped_by else ""),
            "hostname": shown(ctx.hostname),
            "pwd": shown(ctx.pwd),
            "pwdshort": shown(ctx.pwdshort),
            "cmd": shown(ctx.cmd),
            "args": shown(ctx.args),
            "notebook": shown(ctx.notebook),
            # Outside inline code too, a backtick of the user's would open a code span or fence.
            "label": inline_code_safe(escape(state.label)),
            "elapsed": format_hms(state.elapsed),
            "eta": format_hms(state.eta),
            "progress": progress_bar(state.progress),
            # Control sequences made by slacknb itself: never escaped.
            "finish_mentions": state.mentions,
            "updated": slack_date(state.updated_at),
        }
        if "trend" in self.template.names:  # ~20 us: only paid by templates that show it
            values["trend"] = inline_code_safe(escape(trend(state.log)))
        return values

    def render(self, state: ReportState, *, max_bytes: int | None = None) -> str:
        budget = self.max_bytes if max_bytes is None else max_bytes
        values = self.fields(state)
        values["content"] = self._content(state, values, budget)
        scrub = self.scrub
        # Scrubbed before the cut, so that no cut leaves part of a secret to be seen.
        text = scrub(encodable(self.template.render(values)))
        # Specs such as {content:>999} or a template longer than the budget
        # can still overflow: cut, keeping the status, the mentions and the
        # staleness line (every version of the message says how old it is).
        if utf8_len(text) <= budget:
            return text
        updated = f"updated {values['updated']}" if values["updated"] and "updated" in self.template.names else ""
        keep = (values["status"], values["finish_mentions"], updated)
        return cut(text, budget, keep=tuple(scrub(encodable(k)) for k in keep))

    def _content(self, state: ReportState, values: dict, budget: int) -> str:
        log = state.log
        if not log:
            # Until the first row, say so instead of leaving the table's place blank.
            return f"_{escape(state.waiting)}_" if state.waiting and not state.finished else ""
        entries = tuple(state.entries) if state.entries is not None else self._auto_entries.get(log)
        occurrences = self.template.count("content")
        if occurrences == 0:
            return ""
        frame = utf8_len(self.template.render({**values, "content": ""}))
        room = (budget - frame) // occurrences - utf8_len(f"{FENCE}\n\n{FENCE}")
        rows = self._rows
        rows.use(log, entries)
        chosen, layout = self._choose(log, entries, room)
        text = rows.texts(log, entries, layout)
        lines = [rows.header(entries, layout)] + [text(i) for i in chosen]
        return FENCE + "\n" + "\n".join(lines) + "\n" + FENCE

    def _predict(self, log, entries: tuple, base: tuple, room: int) -> tuple:
        """A first layout, for a render with none before it: the widths of the rows the
        normalizer would choose if every row were as long as the newest ones."""
        rows = self._rows
        newest = merge_layout(base, *(rows.own_layout(log, entries, i)
                                      for i in range(max(0, len(log) - _PREDICT), len(log))))
        length = sum(layout_widths(entries, newest)) + 2 * len(entries) - 1  # + newline
        header = utf8_len(rows.header(entries, newest))
        likely = select_rows(len(log), lambda i: length, room - header, self.normalizer)
        return merge_layout(newest, *(rows.own_layout(log, entries, i) for i in likely))

    def _choose(self, log, entries: tuple, room: int) -> tuple[list, tuple]:
        """The rows to show, and the layout to show them in.

        Which rows fit depends on the column widths, and the widths on which
        rows are shown: start from the previous render's layout, choose, widen
        to what the choice needs, and choose again until the choice fits the
        layout it was made with (one pass while training, once widths settle).
        Rows shown in a layout no wider than the one they were chosen with stay
        within the budget.
        """
        rows = self._rows
        base = empty_layout(entries)
        layout = rows.last_layout or self._predict(log, entries, base, room)
        chosen: list = []
        for _ in range(_MAX_PASSES):
            header = utf8_len(rows.header(entries, layout))
            if room - header < 0:
                # Not even the header fits beside the rest: slack_text.cut decides.
                return [], base
            chosen = select_rows(len(log), rows.costs(log, entries, layout), room - header, self.normalizer)
            exact = merge_layout(base, *(rows.own_layout(log, entries, i) for i in chosen))
            if all(map(operator.le, exact, layout)):
                break
            layout = merge_layout(layout, exact)
        else:
            # Widths grew at every pass: keep the newest rows that fit the widest layout.
            cost = rows.costs(log, entries, layout)
            used, kept = utf8_len(rows.header(entries, layout)), []
            for i in reversed(chosen):
                used += cost(i)
                if used > room:
                    break
                kept.append(i)
            chosen = kept[::-1]
            exact = merge_layout(base, *(rows.own_layout(log, entries, i) for i in chosen))
        # Columns follow the widest value shown, with a little hysteresis: a
        # layout a character too wide stays (its cached rows serve the next
        # render); wider than that, the rows are chosen again in the exact
        # layout, where more of them may fit.
        if sum(layout_widths(entries, layout)) - sum(layout_widths(entries, exact)) >= _NARROW_AT:
            header = utf8_len(rows.header(entries, exact))
            again = select_rows(len(log), rows.costs(log, entries, exact), room - header, self.normalizer)
            if all(map(operator.le, merge_layout(base, *(rows.own_layout(log, entries, i) for i in again)),
                       exact)):
                chosen = again
            layout = exact
        rows.last_layout = layout
        return chosen, layout
