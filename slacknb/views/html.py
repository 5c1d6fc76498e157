"""A report frame as HTML and plain text, for notebooks: pure functions, no I/O.

The widget (:mod:`slacknb.views.widget`) shows these pieces live; where widgets do
not render (nbconvert, GitHub, terminal IPython, VS Code without the widget
manager) :func:`frame_html` and :func:`frame_text` show the same report.

The HTML is standalone: inline styles, no script, no external stylesheet, and
every text is HTML-escaped (a metric called ``<b>`` shows as ``<b>``). Stable
class names (``slacknb-report``, ``slacknb-status``, ``slacknb-progress``,
``slacknb-table``, ``slacknb-sync``, ``slacknb-link``, ``slacknb-preview``,
``slacknb-preview-source``, ``slacknb-trend``, ``slacknb-chart``) and
``data-status`` / ``data-sync`` / ``data-rows`` attributes let tests and
stylesheets find each part.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Callable, Mapping, Sequence

from slacknb.core.context import RunContext
from slacknb.core.render import format_hms, progress_bar
from slacknb.core.scrub import Scrubber
from slacknb.core.state import (
    COMPLETED,
    FAILED,
    INTERRUPTED,
    STALLED,
    STARTED,
    STOPPED,
    TERMINATED,
    TRAINING,
    ReportState,
)
from slacknb.core.slack_text import shorten
from slacknb.core.table import MAX_CELL, RowFormat, format_header, format_value
from slacknb.core.trend import trend
from slacknb.views.mrkdwn import preview_html, preview_note
from slacknb.views.style import FONT as _FONT
from slacknb.views.style import MONO as _MONO
from slacknb.views.style import SCROLL_BOTTOM as _SCROLL_BOTTOM
from slacknb.views.sync import SYNC_COLORS, safe_link, sync_html, sync_text

__all__ = ["MAX_ROWS", "bar_style", "bar_value", "cell_text", "frame_context", "frame_html", "frame_scrub",
           "frame_signature",
           "frame_text", "chart_html", "SYNC_COLORS", "percent_text", "preview_html", "preview_note", "progress_html", "row_html", "safe_link",
           "status_html", "status_text", "sync_html", "sync_text", "table_html", "table_text", "where_text"]

_SHAPES = Scrubber()  # a frame without a run's scrub: token shapes and webhook URLs still hidden
# Rows kept in the DOM: a 2,000-row log as HTML would make every update and
# the saved notebook heavy, and nobody reads past a screenful while it runs.
MAX_ROWS = 50

STATUS_COLORS = {
    STARTED: "#6e7781",
    TRAINING: "#0969da",
    COMPLETED: "#1a7f37",
    FAILED: "#cf222e",
    INTERRUPTED: "#bc4c00",
    STOPPED: "#8250df",
    TERMINATED: "#a40e26",
    STALLED: "#9a6700",
}
# ipywidgets' FloatProgress bar_style for each status ('' is the theme's colour).
BAR_STYLES = {COMPLETED: "success", FAILED: "danger", INTERRUPTED: "warning", STOPPED: "info", TERMINATED: "danger",
              STALLED: "warning"}
_BAR_COLORS = {"": "#0969da", "success": "#1a7f37", "danger": "#cf222e", "warning": "#bc4c00", "info": "#8250df"}
def frame_context(frame, context: RunContext | None = None) -> RunContext:
    """The run's context: ``context`` if given, else the frame's own, else this process's."""
    if context is not None:
        return context
    own = getattr(frame, "context", None)
    return own if isinstance(own, RunContext) else RunContext.detect()


def frame_scrub(frame) -> Callable[[str], str]:
    """The run's scrub the frame carries (its secrets and patterns), else the built-in shapes."""
    return getattr(frame, "scrub", None) or _SHAPES


def frame_signature(frame) -> tuple:
    """Everything a frame shows, at the resolution it is shown (whole seconds, 0.1 %).

    Two frames with equal signatures look the same, so a view can skip the
    second one. (Frames share one mutable ReportState, so frames themselves
    cannot be compared.)
    """
    state = frame.state
    eta = state.eta
    return (
        state.status,
        id(state.log),
        len(state.log),
        tuple(frame.entries),
        int(state.elapsed),
        None if state.progress is None else round(state.progress, 3),
        None if eta is None or eta != eta else int(eta),
        state.label,
        frame.preview,
        frame.sync,
    )


def bar_style(status: str) -> str:
    """FloatProgress bar_style: green when completed, red when failed or terminated, orange when
    interrupted or stalled, "info" when stopped."""
    return BAR_STYLES.get(status, "")


def bar_value(state: ReportState) -> float | None:
    """Where the progress bar stands, rounded to 0.1 %; None hides it.

    Without a known length the bar is hidden while the run goes on, and full
    once it ended, so the end colour still shows.
    """
    if state.progress is not None and state.progress == state.progress:
        return round(min(max(float(state.progress), 0.0), 1.0), 3)
    return 1.0 if state.finished else None


def percent_text(state: ReportState) -> str:
    """'40%' (floor, like the Slack bar), or '' when the length is unknown."""
    if state.progress is None or state.progress != state.progress:
        return ""
    return f"{int(min(max(state.progress, 0.0), 1.0) * 100)}%"


def where_text(context: RunContext) -> str:
    return f"{context.hostname}:{context.pwdshort}"


def status_text(state: ReportState, context: RunContext, trend_text: str | None = None, *,
                scrub: Callable[[str], str] = str) -> str:
    """One line: status, host:path, elapsed, ETA, label, loss trend (``scrub`` hides secrets)."""
    parts = [f"[{state.status}]", scrub(where_text(context)), f"elapsed {format_hms(state.elapsed)}"]
    if state.eta is not None and not state.finished:
        parts.append(f"ETA {format_hms(state.eta)}")
    if state.label:
        parts.append(scrub(state.label))
    trend_text = trend(state.log) if trend_text is None else trend_text
    if trend_text:
        parts.append(scrub(trend_text))
    return "  ".join(parts)


def status_html(state: ReportState, context: RunContext, trend_text: str | None = None, *,
                scrub: Callable[[str], str] = str) -> str:
    """The status line: a coloured badge, host:path, elapsed, ETA, label and the loss trend.

    ``trend_text`` is ``{trend}`` of the state, when the caller keeps it (default: computed);
    ``scrub`` hides secrets in the texts the run did not write.
    """
    color = STATUS_COLORS.get(state.status, STATUS_COLORS[STARTED])
    parts = [
        f'<span class="slacknb-badge" style="background:{color};color:#fff;border-radius:3px;'
        f'padding:1px 6px;font-weight:600">{escape(state.status)}</span>',
        f'<code class="slacknb-where" style="{_MONO}">{escape(scrub(where_text(context)))}</code>',
        f'<span class="slacknb-elapsed">elapsed {format_hms(state.elapsed)}</span>',
    ]
    if state.eta is not None and not state.finished:
        parts.append(f'<span class="slacknb-eta">ETA {format_hms(state.eta)}</span>')
    if state.label:
        parts.append(f'<span class="slacknb-label" style="font-style:italic">{escape(scrub(state.label))}</span>')
    trend_text = trend(state.log) if trend_text is None else trend_text
    if trend_text:
        parts.append(f'<code class="slacknb-trend" style="{_MONO}">{escape(scrub(trend_text))}</code>')
    return (f'<div class="slacknb-status" data-status="{escape(state.status)}" style="{_FONT};'
            f'display:flex;flex-wrap:wrap;gap:0.8em;align-items:center">' + "".join(parts) + "</div>")


def progress_html(state: ReportState) -> str:
    """The progress bar as plain HTML (the widget uses a FloatProgress instead)."""
    value = bar_value(state)
    if value is None:
        return ""
    style = bar_style(state.status)
    return (
        f'<div class="slacknb-progress" data-bar-style="{style}" style="{_FONT};display:flex;'
        'align-items:center;gap:0.6em;margin:4px 0">'
        '<div style="flex:1;height:10px;background:#d0d7de;border-radius:5px;overflow:hidden">'
        f'<div style="width:{value * 100:.1f}%;height:100%;background:{_BAR_COLORS[style]}"></div></div>'
        f'<span class="slacknb-percent">{percent_text(state)}</span></div>'
    )


def cell_text(observation: Mapping, entry: str, *, scrub: Callable[[str], str] = str) -> str:
    """One table cell, numbers formatted as PrintReport formats them ('' when absent), at most
    MAX_CELL characters as in the Slack table."""
    if entry not in observation:
        return ""
    return scrub(shorten(format_value(observation[entry], 0).strip(), MAX_CELL))


def row_html(observation: Mapping, entries: Sequence[str], *, scrub: Callable[[str], str] = str) -> str:
    # No style per cell: the table's border-spacing pads them, which keeps the
    # HTML of a 50-row table (sent on every new row) small.
    cells = "".join(f"<td>{escape(cell_text(observation, e, scrub=scrub))}</td>" for e in entries)
    return f"<tr>{cells}</tr>"


def table_html(log: Sequence[Mapping], entries: Sequence[str], *, max_rows: int = MAX_ROWS,
               rows: Sequence[str] | None = None, scrub: Callable[[str], str] = str) -> str:
    """The log as an HTML table: the newest ``max_rows`` rows, newest last.

    ``rows`` may give those rows' HTML already made (the widget caches them).
    """
    total = len(log)
    if not total or not entries:
        return f'<div class="slacknb-table" data-rows="{total}" style="{_FONT};opacity:0.7">no log rows yet</div>'
    shown = min(total, max_rows)
    if rows is None:
        rows = [row_html(observation, entries, scrub=scrub) for observation in log[total - shown:]]
    head = "".join(
        '<th style="position:sticky;top:0;background:var(--jp-layout-color1,#fff);'
        f'text-align:left;border-bottom:1px solid #d0d7de">{escape(entry)}</th>'
        for entry in entries
    )
    earlier = total - shown
    note = (f'<div class="slacknb-earlier" style="{_FONT};opacity:0.7">'
            f'{earlier:,} earlier row{"s" if earlier != 1 else ""} not shown</div>') if earlier else ""
    return (
        f'<div class="slacknb-table" data-rows="{total}" style="max-height:22em;{_SCROLL_BOTTOM}">'
        f'<div>{note}<table style="{_MONO};border-collapse:separate;border-spacing:12px 1px">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def table_text(log: Sequence[Mapping], entries: Sequence[str], *, max_rows: int = MAX_ROWS,
               scrub: Callable[[str], str] = str) -> str:
    """The newest ``max_rows`` rows as PrintReport prints them, with the header."""
    total = len(log)
    if not total or not entries:
        return "(no log rows yet)"
    shown = min(total, max_rows)
    fmt = RowFormat(entries)
    lines = [format_header(entries)]
    if total > shown:
        earlier = total - shown
        lines.append(f"({earlier:,} earlier row{'s' if earlier != 1 else ''} not shown)")
    lines.extend(scrub(fmt(observation)) for observation in log[total - shown:])
    return "\n".join(lines)


def chart_html(png: bytes | None) -> str:
    """The chart as an inline PNG (a data URI): a saved notebook keeps it, with no file beside it."""
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (f'<img class="slacknb-chart" alt="training curves" src="data:image/png;base64,{data}" '
            'style="display:block;max-width:100%;height:auto;margin:4px 0"/>')


def frame_html(frame, *, context: RunContext | None = None, max_rows: int = MAX_ROWS,
               chart: bytes | None = None) -> str:
    """The whole report as one standalone HTML fragment (no script, inline styles).

    ``chart`` is the run's chart as PNG bytes, shown under the progress bar.
    """
    state = frame.state
    context = frame_context(frame, context)
    scrub = frame_scrub(frame)
    return (
        f'<div class="slacknb-report" data-status="{escape(state.status)}" '
        f'data-sync="{escape(frame.sync.status)}" style="{_FONT};max-width:100%">'
        + status_html(state, context, scrub=scrub)
        + progress_html(state)
        + chart_html(chart)
        + table_html(state.log, frame.entries, max_rows=max_rows, scrub=scrub)
        + sync_html(frame.sync)
        + '<details open style="margin-top:4px"><summary>Slack message</summary>'
        + preview_html(frame.preview, frame.sync)
        + "</details></div>"
    )


def frame_text(frame, *, context: RunContext | None = None, max_rows: int = MAX_ROWS) -> str:
    """The whole report as plain text, for terminals and any front end without HTML."""
    state = frame.state
    context = frame_context(frame, context)
    scrub = frame_scrub(frame)
    lines = [status_text(state, context, scrub=scrub)]
    if state.progress is not None:
        lines.append(progress_bar(state.progress, 20))
    lines.append(table_text(state.log, frame.entries, max_rows=max_rows, scrub=scrub))
    slack = f"Slack: {sync_text(frame.sync)}"
    link = safe_link(frame.sync.permalink)
    lines.append(f"{slack}  {link}" if link else slack)
    return "\n".join(lines)
