"""Who to notify when a run ends, as people write it, parsed into what Slack understands (pure).

Slack only notifies through IDs (``<@U0123>``, ``<!subteam^S0123>``, ``<!here>``), people
write names: slacknb accepts a string (comma or space separated) or a list of:

* user IDs ``U0123``/``W0123`` (optionally ``@U0123`` or ``<@U0123>``);
* user-group IDs ``S0123`` -> ``<!subteam^S0123>``;
* ``@here``/``here``, ``@channel``, ``@everyone`` -> ``<!here>`` ...;
* e-mail addresses, looked up with ``users.lookupByEmail`` (scope ``users:read.email``);
* ``@name``/``name``, matched against a user's name, display name or real name through
  ``users.list`` (scope ``users:read``).

Names and e-mails are looked up by :mod:`slacknb.slack.people`, once per run, in the background.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal

__all__ = ["Mention", "fill_slot", "format_mentions", "mention_slot", "parse_mentions", "people_only",
           "translate_prefix"]

MentionKind = Literal["user", "group", "special", "name", "email"]

_SPECIALS = {"here": "<!here>", "channel": "<!channel>", "everyone": "<!everyone>"}
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_CONTROL = re.compile(r"^<(@[UW][A-Z0-9]{2,}|!subteam\^S[A-Z0-9]{2,}|!here|!channel|!everyone)(\|[^>]*)?>$")
_SPLIT = re.compile(r"[\s,;]+")
_PREFIX_WORD = re.compile(r"(?<![<\w])@(here|channel|everyone|[UW][A-Z0-9]{2,}\b)")


@dataclass(frozen=True)
class Mention:
    """One requested mention: ``raw`` as written, ``kind`` and the normalised ``value``."""

    kind: MentionKind
    value: str
    raw: str

    @property
    def markup(self) -> str | None:
        """The control sequence, or None while a name or e-mail still needs resolving."""
        if self.kind == "user":
            return f"<@{self.value}>"
        if self.kind == "group":
            return f"<!subteam^{self.value}>"
        if self.kind == "special":
            return _SPECIALS[self.value]
        return None


def parse_mentions(spec: str | Iterable[str] | None) -> tuple[Mention, ...]:
    """Parse a mention spec into :class:`Mention` items, in order, without duplicates.

    Raises TypeError for anything but a string, an iterable of strings (or of :class:`Mention`,
    parsed already) or None.
    """
    if spec is None:
        return ()
    if isinstance(spec, str):
        words = _SPLIT.split(spec)
    else:
        try:
            items = list(spec)
        except TypeError:
            raise TypeError(
                f"mentions must be a string like 'U0123, @alice' or a list of strings, not {type(spec).__name__}"
            ) from None
        words = []
        for item in items:
            if isinstance(item, Mention):  # parsed already
                words.append(item)
                continue
            if not isinstance(item, str):
                raise TypeError(f"each mention must be a string, not {type(item).__name__}: {item!r}")
            # A list item is one mention, so a real name with a space ("Alice Smith") works.
            words.append(item)
    seen: set[tuple[str, str]] = set()
    parsed = []
    for word in words:
        mention = word if isinstance(word, Mention) else _parse_word(word)
        if mention is None or (mention.kind, mention.value) in seen:
            continue
        seen.add((mention.kind, mention.value))
        parsed.append(mention)
    return tuple(parsed)


def _parse_word(word: str) -> Mention | None:
    raw = word.strip()
    if not raw:
        return None
    control = _CONTROL.match(raw)
    if control:
        inner = control.group(1)
        if inner.startswith("@"):
            return Mention("user", inner[1:], raw)
        if inner.startswith("!subteam^"):
            return Mention("group", inner[len("!subteam^"):], raw)
        return Mention("special", inner[1:], raw)
    bare = raw[1:] if raw.startswith("@") else raw
    if not bare:
        return None
    if bare.lower() in _SPECIALS:
        return Mention("special", bare.lower(), raw)
    if _USER_ID.match(bare):
        return Mention("user", bare, raw)
    if _GROUP_ID.match(bare):
        return Mention("group", bare, raw)
    if not raw.startswith("@") and _EMAIL.match(bare):
        return Mention("email", bare.lower(), raw)
    return Mention("name", bare.lower(), raw)


def format_mentions(markups: Iterable[str | None]) -> str:
    """Join control sequences with spaces, skipping empty ones (never "None" or "[]")."""
    return " ".join(m for m in markups if m)


def translate_prefix(prefix: str) -> str:
    """Turn ``@here``/``@channel``/``@everyone``/``@U0123`` in an alert prefix into control sequences.

    Everything else in the prefix (emoji, words, ready-made ``<!here>``) is kept as written.
    """

    def replace(match: re.Match) -> str:
        word = match.group(1)
        return _SPECIALS[word] if word in _SPECIALS else f"<@{word}>"

    return _PREFIX_WORD.sub(replace, prefix)


def people_only(mentions: Iterable[Mention]) -> tuple[Mention, ...]:
    """The mentions that name one person (not a user group, not @here)."""
    return tuple(m for m in mentions if m.kind not in ("group", "special"))



# The final message names the people it notifies, but names are looked up in the background and
# may not be known when the run ends: the final text is rendered with a slot of private-use
# characters as wide as the mentions will likely be, and the slot is filled with the markup once
# known (by the Slack worker for Slack, by the run for the notebook's preview).
_SLOT_OPEN, _SLOT_FILL, _SLOT_CLOSE = "\ue000", "\ue001", "\ue002"
_SLOT = re.compile(f"{_SLOT_OPEN}{_SLOT_FILL}*{_SLOT_CLOSE}")
_LIKELY_WIDTH = {"user": 14, "email": 14, "name": 14, "group": 22}  # <@U0123456789>, <!subteam^S...>


def mention_slot(mentions: Iterable[Mention]) -> str:
    """A placeholder for the markup of ``mentions`` ("" when there are none), about as wide in
    UTF-8 bytes as the markup will be; :func:`fill_slot` puts the markup in."""
    mentions = tuple(mentions)
    if not mentions:
        return ""
    width = sum(_LIKELY_WIDTH.get(m.kind, len(m.markup or "")) for m in mentions) + len(mentions) - 1
    return _SLOT_OPEN + _SLOT_FILL * max(0, -(-width // 3) - 2) + _SLOT_CLOSE  # 3 UTF-8 bytes a character


def fill_slot(text: str, markup: str) -> str:
    """``text`` with its mention slot (if any) replaced by ``markup``."""
    if _SLOT_OPEN not in text:
        return text
    return _SLOT.sub(lambda _match: markup, text, count=1)
