"""Slack-safe text: the only escaping Slack's mrkdwn needs, and fenced code blocks.

Slack parses ``<...>`` as control sequences (``<!channel>``, ``<@U123>``), so any
text slacknb did not author must have exactly ``&``, ``<`` and ``>`` escaped.
Nothing else is HTML-encoded: Slack would show ``&quot;`` literally.
"""

import re
import time
from typing import Sequence

__all__ = ["CUT_MARKER", "ELLIPSIS", "FENCE", "PLACEHOLDER", "code_block", "cut", "cut_utf8", "encodable", "escape",
           "guard_backticks", "inline_code_safe", "shorten", "slack_date", "text_of", "utc_text", "utf8_len"]

FENCE = "```"
# mrkdwn has no backtick escape: a zero-width space between backticks keeps a
# run of three from closing the code block early.
_ZWSP = "\u200b"


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack requires (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BACKTICK_PAIR = re.compile("`(?=`)")


def guard_backticks(text: str) -> str:
    """Put a zero-width space between adjacent backticks (idempotent).

    Applied row by row or to a whole block, the result is the same, which lets
    the renderer measure rows one at a time.
    """
    return _BACKTICK_PAIR.sub("`" + _ZWSP, text)


def code_block(text: str) -> str:
    """Wrap already-escaped ``text`` in a ``` block that it cannot close early."""
    return f"{FENCE}\n{guard_backticks(text)}\n{FENCE}"


def inline_code_safe(text: str) -> str:
    """Make text safe inside single-backtick inline code (a backtick would end it)."""
    return text.replace("`", "'")


# What a value shows as when it has no text: its str() raised, or a character of it cannot be
# sent (a lone surrogate, which UTF-8 cannot encode). The run's report goes on around it.
PLACEHOLDER = "?"
# The end of a text cut short to a width (a table cell, a line of an alert): one column wide.
ELLIPSIS = "\u2026"


def encodable(text: str) -> str:
    """``text`` with every character UTF-8 cannot encode (lone surrogates) as :data:`PLACEHOLDER`.

    The length in characters stays the same, so widths worked out before still hold.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def text_of(value) -> str:
    """``str(value)`` that never raises: :data:`PLACEHOLDER` when ``str()`` raises, and
    every character that cannot be sent as :data:`PLACEHOLDER`."""
    try:
        text = value if type(value) is str else str(value)
    except Exception:  # noqa: BLE001 - a value's own __str__ must not stop the report
        return PLACEHOLDER
    return encodable(text)


def shorten(text: str, width: int) -> str:
    """``text`` within ``width`` characters, ending in :data:`ELLIPSIS` when it was cut."""
    return text if len(text) <= width else text[:max(0, width - 1)] + ELLIPSIS


# The one marker of a text cut to Slack's size: the renderer, the alerts and the mirror use it.
CUT_MARKER = "\n[... cut to fit Slack's size limit]"
_CLOSE = "\n" + FENCE


def utf8_len(text: str) -> int:
    """Size of ``text`` in UTF-8 bytes, the unit of every Slack budget here.

    Never raises: a lone surrogate counts 3 bytes, more than the :data:`PLACEHOLDER` that
    :func:`encodable` sends instead.
    """
    return len(text.encode("utf-8", "surrogatepass"))


def cut_utf8(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes (no character is split)."""
    if limit <= 0:
        return ""
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", errors="ignore")


def cut(text: str, budget: int, keep: Sequence[str] = ()) -> str:
    """``text`` within ``budget`` UTF-8 bytes: the head, :data:`CUT_MARKER`, then what must stay.

    Each string in ``keep`` (the status, the mentions: most important first) that the
    cut would lose is appended whole after the marker while it fits. A code block the cut
    leaves open is closed first, so the marker is not swallowed by it.
    """
    if utf8_len(text) <= budget:
        return text
    keep = [k for k in keep if k]
    while True:
        tail = ""
        room = 0
        # Missing keeps only grow as the head shrinks, so this settles quickly.
        for _ in range(len(keep) + 1):
            room = budget - utf8_len(CUT_MARKER) - utf8_len(tail) - utf8_len(_CLOSE)
            head = cut_utf8(text, room)
            new_tail = "".join("\n" + k for k in keep if k not in head)
            if new_tail == tail:
                break
            tail = new_tail
        if room >= 0 or not keep:
            break
        keep.pop()  # the least important keep does not fit
    if room < 0:
        return cut_utf8(text, budget)
    if head.count(FENCE) % 2 == 1:
        head += _CLOSE
    return head + CUT_MARKER + tail


# Slack's date formatting: ``<!date^UNIX^TOKENS|FALLBACK>``. ``{ago}`` ("3 minutes
# ago") is one of the tokens Slack documents for dates (with {date_num}, {time},
# {time_secs}, ...); the client renders it in each reader's own time, so a report
# whose process died reads as old instead of alive.
AGO = "{ago}"


def utc_text(unix: float) -> str:
    """``unix`` as readable UTC, e.g. '2026-12-01 05:42:57 UTC' (the date markup's fallback)."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(unix)))


def slack_date(unix: float | None, tokens: str = AGO) -> str:
    """Slack's date markup for ``unix`` (seconds), with a readable UTC fallback; '' when None.

    Where Slack cannot render the tokens (notifications, some clients, e-mail)
    it shows the fallback, so the fallback is plain UTC text.
    """
    if unix is None or unix != unix:
        return ""
    return f"<!date^{int(unix)}^{tokens}|{utc_text(unix)}>"
