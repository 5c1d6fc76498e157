"""The ``%%slackreport`` line: token refusal, and the options from the line and from config.

The flags and the ``c.SlackReportMagics.*`` traits are made from :data:`slacknb.options.OPTIONS`
(every option declared once); precedence is the line, then config, then the environment.
"""

from __future__ import annotations

import re

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Enum, Float, Int, List, Unicode

from slacknb.core.scrub import looks_like_token
from slacknb.options import OPTIONS, ReportOptions, check

__all__ = ["TOKEN_REFUSED", "arguments", "refuse_secrets", "resolve", "traits"]

# Options the magic takes (on its line or in config); the others are the extension's only.
MAGIC_OPTIONS = tuple(option for option in OPTIONS if option.flags or option.trait)

_TOKEN_OPTION = re.compile(r"(?i)(?:^|\s)--?[\w-]*token(?![A-Za-z0-9])|token\s*=")
_ESCAPES = re.compile(r"\\([\\nt])")

TOKEN_REFUSED = (
    "%%slackreport does not take a Slack token: the magic line is saved in the notebook and in "
    "IPython's history, where anyone who gets either can read it. Set SLACK_BOT_TOKEN in the "
    "environment that starts Jupyter, or type it in a cell without saving it: "
    "import os, getpass; os.environ['SLACK_BOT_TOKEN'] = getpass.getpass('Slack bot token: '). "
    "If that was a real token, it is now in IPython's history file: revoke it and reinstall the "
    "Slack app to get a new one."
)


def refuse_secrets(line: str) -> None:
    """Raise UsageError if ``line`` holds a Slack token or a token option; never echoes it."""
    if looks_like_token(line) or _TOKEN_OPTION.search(line):
        raise UsageError(TOKEN_REFUSED)


def _unquote(text: str) -> str:
    # IPython splits magic lines without removing quotes.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _decode_escapes(text: str) -> str:
    """``\\n``, ``\\t`` and ``\\\\`` in a one-line template become what they stand for."""
    return _ESCAPES.sub(lambda m: {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)], text)


def _flatten(groups, *, commas: bool = True) -> list:
    """``-e a b -e c,d`` -> ``[a, b, c, d]`` (without ``commas``, a word is one item)."""
    return [item.strip() for group in groups for word in group for item in (word.split(",") if commas else [word])
            if item.strip()]


def traits() -> dict:
    """The config traits, one per option that has one, with the option's default and help."""
    made = {}
    for option in MAGIC_OPTIONS:
        if option.trait is None:
            continue
        default = option.default if option.trait_default is None else option.trait_default
        if option.kind == "list":
            trait = List(Unicode(), default_value=None if default is None else list(default), allow_none=default is None)
        elif option.kind == "choice":
            trait = Enum(option.choices, default_value=default)
        else:
            kind = {"str": Unicode, "float": Float, "int": Int, "bool": Bool}[option.kind]
            trait = kind(default, allow_none=default is None)
        made[option.trait] = trait.tag(config=True)
        made[option.trait].help = option.help
    return made


def arguments(method):
    """Decorate the magic's method with one ``@argument`` per flag-bearing option."""
    for option in reversed(MAGIC_OPTIONS):
        if not option.flags:
            continue
        extra = {
            "str": {"type": _unquote},
            "float": {"type": float},
            "int": {"type": int},
            "bool": {"action": "store_true", "default": None},
            "list": {"nargs": "+", "action": "append", "type": _unquote},
            "choice": {"choices": option.choices, "type": _unquote},
        }[option.kind]
        method = argument(*option.flags, dest=option.name, help=option.help + ".", **extra)(method)
    return magic_arguments()(method)


def resolve(magics, args) -> ReportOptions:
    """The cell's options: the line over config; UsageError naming the fix for a bad value."""
    values = {}
    for option in MAGIC_OPTIONS:
        value = getattr(args, option.name, None) if option.flags else None
        if value is None:
            value = getattr(magics, option.trait) if option.trait else option.default
        elif option.kind == "list":
            # A pattern to hide may hold a comma ({2,5}): one pattern per word.
            value = _flatten(value, commas=option.name != "hide")
        elif option.name == "template":
            value = _decode_escapes(value)
        values[option.name] = value
    # Blank means unset on the line and in config: the environment or the default applies.
    for name in ("channel_id", "base_url", "label", "entries"):
        values[name] = values[name] or None
    try:
        return check(**values)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"%%slackreport: {exc}") from None
