"""Slack's mrkdwn as HTML, for the notebook's preview of the message: pure functions.

The preview shows the message the way Slack shows it: *bold*, _italic_,
~strike~, `inline code`, code blocks, mentions and channels as names, links,
and Slack's date markup as a readable time. Everything from the text is
HTML-escaped: only the tags made here (strong, em, del, code, pre, span, a,
time) reach the page. The exact text Slack got is shown beside it.
"""

from __future__ import annotations

import re
import time
from html import escape
from typing import Mapping

from slacknb.views.style import FONT as _FONT
from slacknb.views.style import MONO as _MONO
from slacknb.views.style import SCROLL_BOTTOM as _SCROLL_BOTTOM

__all__ = ["mrkdwn_html", "mrkdwn_text", "preview_html", "preview_note"]

_CODE = "background:var(--jp-layout-color2,#f6f8fa);border-radius:3px;padding:0 3px"
_MENTION = "background:rgba(29,155,209,0.1);color:#1264a3;border-radius:3px;padding:0 2px"

_FENCE = "```"
_INLINE = re.compile(r"`([^`\n]+)`")
_CONTROL = re.compile(r"<([^<>\n]+)>")
# Slack's emphasis: a marker at a word edge, text that neither starts nor ends with a
# space. It runs on escaped text, where '<' and '>' only begin and end tags made here:
# excluding them keeps every emphasis inside one run of text, so tags nest.
_EMPHASIS = [(re.compile(rf"(?<![\w{m}]){m}(?=[^\s<>])([^{m}\n<>]*?[^\s<>]){m}(?![\w{m}])"), tag)
             for m, tag in (("\\*", "strong"), ("_", "em"), ("~", "del"))]


def _unescape(text: str) -> str:
    """Slack's three entities back to characters (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _utc(unix: int, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(unix))


def _date(body: str) -> tuple[str, str]:
    """``!date^unix^tokens[^link]|fallback`` as (readable text, ISO time)."""
    head, _, fallback = body.partition("|")
    fields = head.split("^")
    try:
        unix = int(fields[1])
    except (IndexError, ValueError):
        return fallback or body, ""
    tokens = fields[2] if len(fields) > 2 else ""
    iso = _utc(unix, "%Y-%m-%dT%H:%M:%SZ")
    if tokens.strip() == "{ago}":
        # Slack says "3 minutes ago" to each reader; a preview that is not redrawn
        # every second says the time instead.
        return _utc(unix, "%H:%M:%S UTC"), iso
    return fallback or _utc(unix, "%Y-%m-%d %H:%M:%S UTC"), iso


def _control(body: str, names: Mapping[str, str]) -> tuple[str, str]:
    """One ``<...>`` sequence as (kind, readable text): user, channel, date, link or text."""
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return "user", "@" + (label or names.get(target[1:], target[1:]))
    if target.startswith("#"):
        return "channel", "#" + (label or target[1:])
    if target.startswith("!date^"):
        return "date", body
    if target.startswith("!subteam^"):
        return "user", label or "@" + target.split("^", 1)[1]
    if target.startswith("!"):
        return "user", "@" + (label or target[1:])
    if target.lower().startswith(("http://", "https://", "mailto:")):
        return "link", body
    return "text", "<" + body + ">"


def _inline(text: str, names: Mapping[str, str]) -> str:
    """Text outside code: control sequences, then emphasis on the escaped rest."""
    out, last = [], 0
    for match in _CONTROL.finditer(text):
        out.append(_emphasis(escape(_unescape(text[last:match.start()]))))
        kind, shown = _control(match.group(1), names)
        if kind == "date":
            readable, iso = _date(shown)
            out.append(f'<time datetime="{escape(iso)}" title="Slack shows this in each reader\'s own time">'
                       f"{escape(readable)}</time>")
        elif kind == "link":
            url, _, label = shown.partition("|")
            url = _unescape(url)
            out.append(f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
                       f"{escape(_unescape(label or url))}</a>")
        elif kind in ("user", "channel"):
            out.append(f'<span class="slacknb-mention" style="{_MENTION}">{escape(_unescape(shown))}</span>')
        else:
            out.append(escape(_unescape(shown)))
        last = match.end()
    out.append(_emphasis(escape(_unescape(text[last:]))))
    return "".join(out)


def _emphasis(escaped: str) -> str:
    for pattern, tag in _EMPHASIS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped


def _prose(text: str, names: Mapping[str, str]) -> str:
    out, last = [], 0
    for match in _INLINE.finditer(text):
        out.append(_inline(text[last:match.start()], names))
        out.append(f'<code style="{_MONO};{_CODE}">{escape(_unescape(match.group(1)))}</code>')
        last = match.end()
    out.append(_inline(text[last:], names))
    return "".join(out)


def mrkdwn_html(text: str, names: Mapping[str, str] | None = None) -> str:
    """``text`` (Slack mrkdwn) as an HTML fragment, shown as Slack shows it (white space kept).

    ``names`` maps user IDs to the names Slack would show for ``<@U...>`` (else the ID).
    """
    names = names or {}
    pieces = text.split(_FENCE)  # fences pair up in order: odd pieces are code blocks
    if len(pieces) % 2 == 0:  # the last fence is never closed: it is text
        pieces[-2:] = [pieces[-2] + _FENCE + pieces[-1]]
    out = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if index and piece.startswith("\n"):
                piece = piece[1:]  # the block ends its line
            out.append(_prose(piece, names))
            continue
        # Slack drops the newline right after the opening fence and before the closing one.
        body = piece.removeprefix("\n").removesuffix("\n").replace("\u200b", "")
        out.append(f'<pre style="{_MONO};{_CODE};margin:2px 0;padding:4px;white-space:pre">'
                   f"{escape(_unescape(body))}</pre>")
    return "".join(out)


def mrkdwn_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """What a reader sees of ``text``, as plain text (for tests and text front ends)."""
    return re.sub(r"<[^>]*>", "", mrkdwn_html(text, names).replace("</pre>", "\n")).replace("&lt;", "<").replace(
        "&gt;", ">").replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")


def preview_note(preview: str, sync) -> str:
    """Whether Slack already shows ``preview`` or will (or would) get it."""
    if sync.sent_text is not None and sync.sent_text == preview:
        return "exactly what Slack shows"
    if sync.status in ("local", "disabled"):
        return "what Slack would show"
    return "what Slack will show"


def preview_html(preview: str, sync) -> str:
    """The message as Slack shows it, and below it the exact text Slack got (its mrkdwn source).

    Mentions read as the names Slack shows (``@alice``) where the sync state knows them.
    """
    # MirrorState.names maps user IDs to names from the mention look-ups; a state
    # without it (or without a name yet) shows the ID, as before.
    names = getattr(sync, "names", None) or {}
    return (
        f'<div class="slacknb-preview-box" style="{_FONT}">'
        f'<div class="slacknb-preview-note" style="opacity:0.7">{escape(preview_note(preview, sync))}</div>'
        f'<div style="max-height:20em;{_SCROLL_BOTTOM}">'
        f'<div class="slacknb-preview" style="{_FONT};white-space:pre-wrap">{mrkdwn_html(preview, names)}</div></div>'
        '<details><summary style="opacity:0.7">mrkdwn source (the text sent to Slack)</summary>'
        f'<pre class="slacknb-preview-source" style="{_MONO};margin:0;white-space:pre-wrap">{escape(preview)}</pre>'
        "</details></div>"
    )
