"""Slack-safe text: the only escaping Slack's mrkdwn needs, and fenced code blocks.

Slack parses ``<...>`` as control sequences (``<!channel>``, ``<@U123>``), so any
text slacknb did not author must have exactly ``&``, ``<`` and ``>`` escaped.
Nothing else is HTML-encoded: Slack would show ``&quot;`` literally.
"""

import re
import time

__all__ = ["FENCE", "code_block", "escape", "guard_backticks", "inline_code_safe", "slack_date", "utc_text"]

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
