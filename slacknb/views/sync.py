"""The Slack line of a notebook report: where the mirror stands, and a safe link to the message."""

from __future__ import annotations

import math
from html import escape

from slacknb.views.style import FONT as _FONT

__all__ = ["SYNC_COLORS", "safe_link", "sync_html", "sync_text"]

SYNC_COLORS = {
    "local": "#6e7781",
    "posting": "#0969da",
    "sending": "#0969da",
    "synced": "#1a7f37",
    "retrying": "#bc4c00",
    "rate_limited": "#bc4c00",
    "disabled": "#cf222e",
}


def _seconds(value: float | None) -> int | None:
    if value is None or value != value:
        return None
    return max(0, math.ceil(value))


def sync_text(sync) -> str:
    """The Slack mirror's state in a few words: 'synced', 'retrying in 3s: ...', 'disabled: why';
    then, one a line, what went wrong that a person should know (a scope, a mention, a chart)."""
    problems = getattr(sync, "problems", ()) or ()
    return "\n".join([_state_text(sync), *problems])


def _state_text(sync) -> str:
    status, detail = sync.status, sync.detail
    wait = _seconds(sync.next_attempt_in)
    if status == "synced":
        return "synced"
    if status == "local":
        return f"local only: {detail}" if detail else "local only"
    if status == "disabled":
        return f"disabled: {detail}" if detail else "disabled"
    if status == "posting":
        return "posting the message"
    if status == "sending":
        return f"sending (next edit in {wait}s)" if wait else "sending"
    if status in ("retrying", "rate_limited"):
        head = "rate-limited, retrying" if status == "rate_limited" else "retrying"
        head = f"{head} in {wait}s" if wait else f"{head} now"
        return f"{head}: {detail}" if detail else head
    return f"{status}: {detail}" if detail else status


def safe_link(url: str | None) -> str | None:
    """``url`` if it is an http(s) link; anything else (javascript:, data:) is not linked."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


def sync_html(sync) -> str:
    """The Slack line: a coloured dot, the sync state and a link to the message."""
    color = SYNC_COLORS.get(sync.status, "#6e7781")
    link = safe_link(sync.permalink)
    anchor = (f' <a class="slacknb-link" href="{escape(link)}" target="_blank" rel="noopener noreferrer">'
              "open in Slack</a>") if link else ""
    problems = "".join(f'<div class="slacknb-sync-problem" style="color:{SYNC_COLORS["retrying"]}">'
                       f'&#9888; {escape(problem)}</div>' for problem in getattr(sync, "problems", ()) or ())
    return (
        f'<div class="slacknb-sync" data-sync="{escape(sync.status)}" style="{_FONT}">'
        f'<span style="color:{color}">&#9679;</span> Slack: '
        f'<span class="slacknb-sync-text">{escape(_state_text(sync))}</span>{anchor}{problems}</div>'
    )
