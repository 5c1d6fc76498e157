"""The one scrub: secrets in any text slacknb shows or sends become ``[hidden]``.

What is hidden (see :class:`Scrubber`): the configured secrets (the bot and app
tokens), anything shaped like a Slack token (``xoxb-...``, ``xoxp-...``, ``xapp-...``,
the rotating ``xoxe.xoxp-...``), Slack webhook URLs (``hooks.slack.com/services/...``,
``/workflows/...``, ``/triggers/...``), the value of a secret-named setting
(``token=...``, ``DB_PASSWORD=...``, ``--api-key ...``), and the user's own patterns.
:func:`hide_arguments` does the same for a command line, argument by argument.

Scrubbing is a last step on finished text: the renderer scrubs the message it made, the
Slack layer scrubs everything it sends, the notebook views scrub what they show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

__all__ = ["HIDDEN", "SECRET_NAME", "TOKEN_SHAPE", "WEBHOOK_URL", "Scrubber", "check_patterns",
           "hide_arguments", "looks_like_token", "secret_name"]

HIDDEN = "[hidden]"

# Slack's token prefixes: bot xoxb-, user xoxp-, workspace xoxa-, refresh xoxr-, legacy
# xoxo-/xoxs-, the rotating xoxe-/xoxe.xoxp-, and app-level xapp-. Real ones are long;
# any prefix followed by a letter or digit counts, so a token cut short is hidden too.
TOKEN_SHAPE = r"[xX](?<![A-Za-z0-9].)(?i:ox[a-z](?:\.xox[a-z])?|app)-[A-Za-z0-9][A-Za-z0-9-]*"
# Incoming webhooks (services), legacy Workflow Builder (workflows) and webhook triggers;
# whoever holds one can post into the channel. GovSlack's host is hooks.slack-gov.com.
WEBHOOK_URL = r"h(?:ttps?://h)?ooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]+"
# A setting whose name ends in one of these words holds a secret (GITHUB_TOKEN, db.password,
# --wandb-api-key, client_secret). "tokens" or "tokenizer" do not end in "token": max_tokens=512
# stays. Short options are left alone: -p is a port or a process count as often as a password.
SECRET_NAME = (r"(?:token|secret|passwd|password|passphrase|api[_-]?key|access[_-]?key|private[_-]?key"
               r"|secret[_-]?key|auth|credentials?)")
# A secret value as written after '=' or a space: quoted, or up to a delimiter that ends it
# in prose, code or Slack markup (a backtick closes inline code, '|' and '>' a link); Slack's
# escapes (&amp; &lt; &gt;) are part of it.
_VALUE = r"(?:'[^'\n]*'|\"[^\"\n]*\"|(?:&(?:amp|lt|gt);|[^\s'\"`,;()\[\]{}<>|])+)"

_SECRET_NAME = re.compile(SECRET_NAME + "$", re.IGNORECASE)
# Every pass starts with a literal character, which the regex engine skims to: one pattern of
# alternatives would try each of them at every character (5 ms for a 4,000-byte message,
# against about 20 us for these passes; bench/scrub.py).
_TOKEN = re.compile(TOKEN_SHAPE)
_WEBHOOK = re.compile(WEBHOOK_URL)
# name=value: the value after '=', when the name before it is a secret's (see _hide_assigned).
_ASSIGNED = re.compile(rf"=(?P<value>{_VALUE})")
# --name value (or -name value): the option starts a word; the value is not another option.
_OPTION = re.compile(rf"-(?<![\w.-]-)(?P<name>-?[\w.-]+)(?P<space>[ \t]+)(?!-)(?P<value>{_VALUE})")
_LONGEST_NAME = 12  # "private_key", "credentials": what _hide_assigned reads before '='


def looks_like_token(text: str) -> bool:
    """True when ``text`` holds something shaped like a Slack token."""
    return isinstance(text, str) and _TOKEN.search(text) is not None


def secret_name(name: str) -> bool:
    """True when a setting or argument called ``name`` holds a secret (``--api-key``, ``PASSWORD``)."""
    return _SECRET_NAME.search(name.lstrip("-")) is not None


def hide_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` with the value of every secret-named argument as :data:`HIDDEN`.

    ``--token X``, ``--token=X``, ``token=X``, ``PASSWORD=X`` (any name ending in a word of
    :data:`SECRET_NAME`, any case, ``-`` or ``_``); after ``--token`` the next argument is
    hidden unless it is another long option. Token-shaped arguments are hidden wherever they are.
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("--"):
            out.append(HIDDEN)
            hide_next = False
            continue
        hide_next = False
        name, equals, _ = arg.partition("=")
        if equals and name and secret_name(name):
            out.append(name + "=" + HIDDEN)
        elif arg.startswith("-") and secret_name(arg):
            out.append(arg)
            hide_next = True
        elif looks_like_token(arg):
            out.append(_TOKEN.sub(HIDDEN, arg))
        else:
            out.append(arg)
    return out


def check_patterns(patterns: Iterable[str] | None) -> tuple[str, ...]:
    """``patterns`` as a tuple of regular expressions, or TypeError/ValueError naming the fix.

    The message names a bad pattern by its position only: a pattern is written to hide
    something, so it may hold the secret itself.
    """
    if patterns is None:
        return ()
    if isinstance(patterns, str) or not all(isinstance(p, str) for p in patterns):
        raise TypeError("hide must be a list of regular expressions, e.g. hide=[r'hunter\\d+'] "
                        "(--hide PATTERN ... on the magic line)")
    patterns = tuple(patterns)
    for number, pattern in enumerate(patterns, 1):
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"hide: pattern {number} of {len(patterns)} is not a regular expression "
                             f"({exc.msg} at position {exc.pos}); escape special characters with "
                             "re.escape(text) to hide a literal text") from None
        if compiled.fullmatch(""):
            raise ValueError(f"hide: pattern {number} of {len(patterns)} matches empty text, so it would "
                             "hide nothing; make it match at least one character (+ instead of *)")
    return patterns


@dataclass(frozen=True)
class Scrubber:
    """Turns secrets in text into :data:`HIDDEN`: call it on a string, or :meth:`nested` on
    a JSON-like value (Block Kit blocks, a file title).

    ``secrets`` are literal texts (the configured bot and app tokens; blanks are ignored),
    ``patterns`` regular expressions (the ``hide`` option), both hidden on top of the
    built-in shapes. Its repr counts them and never shows one. Scrubbing hidden text again
    changes nothing.

    The result is shorter than the text whenever what it hides is longer than
    ``[hidden]`` (every real token and webhook URL); a short pattern or secret can make it
    longer, so cut to a budget after scrubbing, never before.
    """

    secrets: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    _extra: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        secrets = tuple(sorted({s.strip() for s in self.secrets if isinstance(s, str) and s.strip()},
                               key=lambda s: (-len(s), s)))  # the longest first: one containing another
        patterns = check_patterns(self.patterns)
        object.__setattr__(self, "secrets", secrets)
        object.__setattr__(self, "patterns", patterns)
        # Each user pattern on its own: its groups and flags are its own business.
        object.__setattr__(self, "_extra", tuple(map(re.compile, patterns)))

    def __repr__(self) -> str:
        return f"Scrubber(secrets={len(self.secrets)} hidden, patterns={len(self.patterns)} hidden)"

    def __call__(self, text: str) -> str:
        """``text`` with every secret as ``[hidden]``."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, HIDDEN)
        # Each pass only where its literal is: a table cell costs a few substring tests.
        lower = text.lower()
        if "xox" in lower or "xapp" in lower:
            text = _TOKEN.sub(HIDDEN, text)
        if "ooks.slack" in text:
            text = _WEBHOOK.sub(HIDDEN, text)
        if "=" in text:
            text = _ASSIGNED.sub(_hide_assigned, text)
        if "-" in text:
            text = _OPTION.sub(_hide_option, text)
        if self._extra:
            # Around what is hidden already, so that scrubbing twice changes nothing.
            pieces = text.split(HIDDEN)
            for pattern in self._extra:
                pieces = [pattern.sub(_hide_extra, piece) for piece in pieces]
            text = HIDDEN.join(pieces)
        return text

    def nested(self, value: Any) -> Any:
        """``value`` with every string in it scrubbed: dicts (keys and values), lists and
        tuples are rebuilt, anything else is returned as it is."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self.nested(k): self.nested(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.nested(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.nested(v) for v in value)
        return value


def _hide_assigned(match: re.Match) -> str:
    before = match.string[max(0, match.start() - _LONGEST_NAME):match.start()]
    return "=" + HIDDEN if _SECRET_NAME.search(before) else match.group()


def _hide_option(match: re.Match) -> str:
    if not secret_name(match.group("name")):
        return match.group()
    return "-" + match.group("name") + match.group("space") + HIDDEN


def _hide_extra(match: re.Match) -> str:
    # A pattern that can match empty text somewhere (a lookahead) hides nothing there.
    return HIDDEN if match.group() else ""
