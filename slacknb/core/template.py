"""The report template: ``str.format_map`` semantics with named placeholders only.

A template is parsed once, at construction, so that every mistake surfaces
before training starts: a malformed template raises ``ValueError`` with the
position and a hint, and unknown placeholders are reported in one warning and
then kept in the output exactly as written.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Union

__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "Field", "Part", "Template"]

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


@dataclass(frozen=True)
class Field:
    """One ``{name!conversion:spec}`` replacement field."""

    name: str
    conversion: str | None
    spec: "Template"
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


def _parse_field(source: str, start: int, end: int, known: frozenset) -> Field:
    body = source[start + 1:end]
    # The field name ends at the first '!' or ':'; the spec may itself hold fields.
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
    spec = Template(spec_source, known=known, _nested=True, _offset=start + 1 + len(body) - len(spec_source))
    return Field(name, conversion, spec, source[start:end + 1], start)


def _parse(source: str, known: frozenset, offset: int) -> tuple[Part, ...]:
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
            raise _malformed(source, i + offset, "single '}'",
                             "Write '}}' for a literal brace.")
        elif ch == "{":
            end = _closing_brace(source, i)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_parse_field(source, i, end, known))
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

    def __init__(self, source: str, *, known: Iterable[str] = FIELDS,
                 warn: bool = True, _nested: bool = False, _offset: int = 0):
        if not isinstance(source, str):
            raise TypeError(f"template must be a str, not {type(source).__name__}")
        self.source = source
        self.known = frozenset(known)
        self.parts = _parse(source, self.known, _offset)
        self.unknown = tuple(sorted(self._unknown_names()))
        if _nested:
            return
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
        for part in self.parts:
            if isinstance(part, Field):
                yield part
                yield from part.spec._fields()

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
                out.append(format(value, part.spec.render(values)))
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"
