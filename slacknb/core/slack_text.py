"""Slack-safe text: the only escaping Slack's mrkdwn needs, and fenced code blocks.

Slack parses ``<...>`` as control sequences (``<!channel>``, ``<@U123>``), so any
text slacknb did not author must have exactly ``&``, ``<`` and ``>`` escaped.
Nothing else is HTML-encoded: Slack would show ``&quot;`` literally.
"""

import re

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
