"""Who to notify when a run ends: parse what people write, resolve it to Slack IDs.

Slack only notifies through IDs (``<@U0123>``, ``<!subteam^S0123>``, ``<!here>``), people
write names: slacknb accepts a string (comma or space separated) or a list of:

* user IDs ``U0123``/``W0123`` (optionally ``@U0123`` or ``<@U0123>``);
* user-group IDs ``S0123`` -> ``<!subteam^S0123>``;
* ``@here``/``here``, ``@channel``, ``@everyone`` -> ``<!here>`` ...;
* e-mail addresses, looked up with ``users.lookupByEmail`` (scope ``users:read.email``);
* ``@name``/``name``, matched against a user's name, display name or real name through
  ``users.list`` (scope ``users:read``; paginated, cached per workspace for 10 minutes).

:func:`parse_mentions` and :func:`format_mentions` are pure; :class:`MentionResolver` (and
:class:`Pending`) look names up on the mirror's worker thread, never on the caller's.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Literal

from slacknb.slack.errors import Kind, classify, error_name

__all__ = ["Mention", "MentionResolver", "Pending", "Resolution", "format_mentions", "parse_mentions",
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

    Raises TypeError for anything but a string, an iterable of strings or None.
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
            if not isinstance(item, str):
                raise TypeError(f"each mention must be a string, not {type(item).__name__}: {item!r}")
            # A list item is one mention, so a real name with a space ("Alice Smith") works.
            words.append(item)
    seen: set[tuple[str, str]] = set()
    parsed = []
    for word in words:
        mention = _parse_word(word)
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


@dataclass(frozen=True)
class Resolution:
    """Result of resolving mentions: the markup to send and what could not be resolved."""

    markup: str
    unresolved: tuple[str, ...] = ()
    problem: str = ""
    """Why some could not be resolved when it is not simply "no such user" (a scope, an error)."""


# Directory of one workspace: lowercased name/display/real name -> user ID, with the time it was read.
_directory_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
_cache_lock = threading.Lock()
CACHE_SECONDS = 600.0


class MentionResolver:
    """Resolve names and e-mails through a slack_sdk ``WebClient``.

    ``wait(seconds) -> bool`` waits out a Retry-After (the worker's interruptible pause,
    False once stopping); ``count_call`` counts each API call (the mirror's ``api_calls``).
    """

    def __init__(self, client, *, wait: Callable[[float], bool], count_call: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._wait = wait
        self._count = count_call
        self._clock = clock

    def resolve(self, mentions: Iterable[Mention], *, timeout: float) -> Resolution:
        """Resolve ``mentions`` within about ``timeout`` seconds; never raises."""
        deadline = self._clock() + timeout
        markups: list[str] = []
        unresolved: list[str] = []
        problems: list[str] = []
        directory: dict[str, str] | None = None
        for mention in mentions:
            markup = mention.markup
            if markup is None and mention.kind == "email":
                user_id, problem = self._lookup_email(mention.value, deadline)
                markup = f"<@{user_id}>" if user_id else None
                if problem and problem not in problems:
                    problems.append(problem)
            elif markup is None:
                if directory is None:
                    directory, problem = self._directory(deadline)
                    if problem:
                        problems.append(problem)
                user_id = directory.get(mention.value)
                markup = f"<@{user_id}>" if user_id else None
            if markup is None:
                unresolved.append(mention.raw)
            elif markup not in markups:
                markups.append(markup)
        return Resolution(format_mentions(markups), tuple(unresolved), "; ".join(problems))

    def _call(self, deadline: float, method: Callable, **kwargs) -> tuple[dict | None, str]:
        """One API call, waiting out rate limits until ``deadline``. Returns (data, problem)."""
        while True:
            self._count()
            try:
                data = method(**kwargs).data
                return (data if isinstance(data, dict) else {}), ""
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem text
                failure = classify(exc)
                if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
                    pause = failure.retry_after if failure.kind is Kind.RATE_LIMITED else 0.5
                    if pause < deadline - self._clock() and self._wait(pause):
                        continue
                    return None, f"Slack kept failing ({failure.error}) while looking up mentions"
                if failure.error == "users_not_found":
                    return None, ""
                if failure.error == "missing_scope":
                    needed = _needed_scope(exc) or "users:read"
                    return None, f"add the {needed} scope to the Slack app to resolve them"
                return None, f"the look-up failed ({error_name(exc) or failure.error})"

    def _lookup_email(self, email: str, deadline: float) -> tuple[str | None, str]:
        data, problem = self._call(deadline, self._client.users_lookupByEmail, email=email)
        if data is None:
            return None, problem
        user = data.get("user") or {}
        return user.get("id"), ""

    def _directory(self, deadline: float) -> tuple[dict[str, str], str]:
        key = _cache_key(self._client)
        with _cache_lock:
            cached = _directory_cache.get(key)
        if cached and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1], ""
        by_name: dict[str, str] = {}
        secondary: dict[str, str] = {}
        cursor = None
        while True:
            kwargs = {"limit": 200}
            if cursor:
                kwargs["cursor"] = cursor
            data, problem = self._call(deadline, self._client.users_list, **kwargs)
            if data is None:
                return {**secondary, **by_name}, problem
            for member in data.get("members") or []:
                _index_member(member, by_name, secondary)
            cursor = ((data.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
            if self._clock() >= deadline:
                return {**secondary, **by_name}, "the user list was too long to read in time"
        # Exact user names win over display and real names, which people share more often.
        directory = {**secondary, **by_name}
        with _cache_lock:
            _directory_cache[key] = (self._clock(), directory)
        return directory, ""


class Pending:
    """A run's mentions on the worker: the markup known so far, and whether names still need a look-up."""

    def __init__(self, mentions: Iterable[Mention] = ()) -> None:
        self.mentions = tuple(mentions)
        self.due = any(m.markup is None for m in self.mentions)
        self.markup = format_mentions(m.markup for m in self.mentions)

    def resolve(self, resolver: MentionResolver, *, timeout: float) -> str:
        """Look the names up; a sentence for the person naming those left out ("" if none)."""
        resolution = resolver.resolve(self.mentions, timeout=timeout)
        self.markup, self.due = resolution.markup, False
        if not resolution.unresolved:
            return ""
        why = f": {resolution.problem}" if resolution.problem else ": no such user in the workspace"
        return f"Slack mentions not resolved, they will not be notified: {', '.join(resolution.unresolved)}{why}"


def _index_member(member: dict, by_name: dict[str, str], secondary: dict[str, str]) -> None:
    if member.get("deleted") or not member.get("id"):
        return
    user_id = member["id"]
    profile = member.get("profile") or {}
    name = (member.get("name") or "").lower()
    if name:
        by_name.setdefault(name, user_id)
    for other in (profile.get("display_name"), profile.get("real_name"), member.get("real_name")):
        if other:
            secondary.setdefault(other.lower(), user_id)


def _needed_scope(exc: BaseException) -> str | None:
    data = getattr(getattr(exc, "response", None), "data", None)
    return data.get("needed") if isinstance(data, dict) else None


def _cache_key(client) -> tuple[str, str]:
    # Keyed by workspace credentials without keeping the token itself around.
    token = getattr(client, "token", None) or ""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]
    return (str(getattr(client, "base_url", "")), digest)


def clear_cache() -> None:
    """Forget every cached user directory (tests, or after renaming people)."""
    with _cache_lock:
        _directory_cache.clear()
