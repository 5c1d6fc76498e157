"""The report template: ``str.format_map`` semantics with named placeholders only.

A template is parsed once, at construction, so that every mistake surfaces
before training starts: a malformed template raises ``ValueError`` with the
position and a hint, and unknown placeholders are reported in one warning and
then kept in the output exactly as written. Format specs are literal (no
placeholder inside a spec) and their widths and precisions bounded, so a
template that was accepted renders every state without raising.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Union

__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "MAX_SPEC_NUMBER", "Field", "Part", "Template"]

FIELDS = (
    "status", "hostname", "pwd", "pwdshort", "cmd", "args", "elapsed",
    "content", "finish_mentions", "progress", "eta", "notebook", "label", "updated", "trend",
)

# chainer-slack-report's layout: status and elapsed, the command line in
# inline code, the content, then the mentions; and when the message was last
# updated, so that a run whose process died reads as old, not as alive.
DEFAULT_TEMPLATE = (
    "{status} - {elapsed} (updated {updated}) `{hostname}:{pwdshort}$ {cmd} {args}`\n"
    "{content}\n"
    "{finish_mentions}"
)


# The largest width or precision a format spec may give. A message is 4,000 bytes by
# default (40,000 at most): a wider field only pads what the cut then drops, while
# {status:>999999999} would build a 1 GB string on every render.
MAX_SPEC_NUMBER = 1000
_SPEC_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Field:
    """One ``{name!conversion:spec}`` replacement field (the spec is literal)."""

    name: str
    conversion: str | None
    spec: str
    source: str  # the field exactly as written, braces included
    position: int


Part = Union[str, Field]


def _malformed(source: str, position: int, problem: str, hint: str) -> ValueError:
    excerpt = source[max(0, position - 15):position + 15]
    return ValueError(
        f"template: {problem} at position {position} (near {excerpt!r}). {hint}"
    )


def _closing_brace(source: str, start: int) -> int:
    """Index of the ``}`` that closes the field opened at ``start``."""
    depth = 0
    for i in range(start, len(source)):
        if source[i] == "{":
            depth += 1
        elif source[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise _malformed(
        source, start, "unbalanced '{'",
        "Close the placeholder with '}', or write '{{' for a literal brace.",
    )


def _check_spec(source: str, start: int, body: str, spec: str) -> None:
    if "{" in spec or "}" in spec:
        raise _malformed(
            source, start, f"a placeholder inside the format spec of {{{body}}}",
            "Format specs are literal: write the width itself, e.g. {status:>12}, not {status:{elapsed}}.",
        )
    # Every run of digits in a spec is a width, a precision or a one-character fill.
    largest = max(_SPEC_NUMBER.findall(spec), key=len, default="0").lstrip("0")
    if len(largest) > len(str(MAX_SPEC_NUMBER)) or int(largest or "0") > MAX_SPEC_NUMBER:
        raise _malformed(
            source, start, f"a width or precision over {MAX_SPEC_NUMBER:,} in {{{body}}}",
            f"Widths and precisions go up to {MAX_SPEC_NUMBER:,} (a message is 4,000 bytes): "
            "e.g. {status:>12} or {label:.40}.",
        )


def _parse_field(source: str, start: int, end: int) -> Field:
    body = source[start + 1:end]
    # The field name ends at the first '!' or ':'.
    name_end = len(body)
    for i, ch in enumerate(body):
        if ch in "!:":
            name_end = i
            break
    name, rest = body[:name_end], body[name_end:]
    conversion = None
    if rest.startswith("!"):
        conversion, rest = rest[1:2], rest[2:]
        if conversion not in ("r", "s", "a") or (rest and not rest.startswith(":")):
            raise _malformed(source, start, f"bad conversion in {{{body}}}",
                             "Use !s, !r or !a, optionally followed by :spec.")
    spec_source = rest[1:] if rest.startswith(":") else ""
    if not name or name.isdigit() or name[0].isdigit():
        raise _malformed(
            source, start, f"positional placeholder {{{body}}}",
            "Only named placeholders are supported, e.g. {status} or {elapsed}.",
        )
    if not name.isidentifier():
        raise _malformed(
            source, start, f"placeholder name {name!r} is not a plain name",
            "Attribute and index lookups are not supported: use a name such as {content}.",
        )
    _check_spec(source, start, body, spec_source)
    return Field(name, conversion, spec_source, source[start:end + 1], start)


def _parse(source: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "{" and source.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and source.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "}":
            raise _malformed(source, i, "single '}'",
                             "Write '}}' for a literal brace.")
        elif ch == "{":
            end = _closing_brace(source, i)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_parse_field(source, i, end))
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


class Template:
    """A parsed report template.

    ``known`` lists the placeholders that have values; any other name is kept
    verbatim in the output and named in one warning (unless ``warn=False``).
    """

    def __init__(self, source: str, *, known: Iterable[str] = FIELDS, warn: bool = True):
        if not isinstance(source, str):
            raise TypeError(f"template must be a str, not {type(source).__name__}")
        try:
            source.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _malformed(source, exc.start, "a character UTF-8 cannot encode (a lone surrogate)",
                             "Slack only takes UTF-8: remove it.") from None
        self.source = source
        self.known = frozenset(known)
        self.parts = _parse(source)
        self.unknown = tuple(sorted(self._unknown_names()))
        self.names = frozenset(self._all_names())
        # A spec that cannot format a string fails here, not mid-training.
        sample = {name: "0" for name in self.known}
        try:
            self.render(sample)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"template: a format spec cannot format text: {exc}. "
                "Placeholders hold text, so use string specs such as {elapsed:>10}."
            ) from None
        if warn and self.unknown:
            warnings.warn(
                "template: unknown placeholder(s) "
                + ", ".join("{" + n + "}" for n in self.unknown)
                + " will be shown as written. Known: "
                + ", ".join("{" + n + "}" for n in sorted(self.known)),
                stacklevel=3,
            )

    def _fields(self):
        return (part for part in self.parts if isinstance(part, Field))

    def _all_names(self):
        return {f.name for f in self._fields()}

    def _unknown_names(self):
        return {f.name for f in self._fields() if f.name not in self.known}

    def count(self, name: str) -> int:
        """How many times ``{name}`` appears (top level only)."""
        return sum(1 for p in self.parts if isinstance(p, Field) and p.name == name)

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders; unknown ones stay exactly as written."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif part.name not in self.known or part.name not in values:
                out.append(part.source)
            else:
                value = values[part.name]
                if part.conversion == "r":
                    value = repr(value)
                elif part.conversion == "a":
                    value = ascii(value)
                out.append(format(value, part.spec))
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"
