"""The run's people, looked up once, in the background, through the one API layer.

Who the finish reply notifies (``finish_mentions``) and who may press the Stop button
(``stop_allowed``) are written as names, e-mails or IDs (:mod:`slacknb.core.mentions`). Names
and e-mails become user IDs here: ``users.lookupByEmail`` (scope ``users:read.email``) for each
e-mail, ``users.list`` (scope ``users:read``; paginated; cached per workspace for
:data:`CACHE_SECONDS`) for names. :meth:`People.step` makes ONE call through
:class:`~slacknb.slack.api.Api` (the shared gate, the fault classification, the call count) and
returns a :class:`~slacknb.slack.message.Step`; the outbox runs it when the run starts, and
before the final edit if it is still due, so the final message names the people it notifies.
A fault is tried again after a backoff of its own (the report's edits go on meanwhile); a
missing scope or an unknown person is one problem text naming the fix.
"""

from __future__ import annotations

import random
import threading
from typing import Iterable

from slacknb.core.mentions import Mention, format_mentions
from slacknb.slack.api import Api
from slacknb.slack.errors import Failure, Kind
from slacknb.slack.message import AGAIN, DONE, Step

__all__ = ["CACHE_SECONDS", "People", "clear_cache"]

CACHE_SECONDS = 600.0
PAGE = 200
RETRY_BASE, RETRY_MOST = 0.5, 8.0  # the look-ups' own backoff (seconds)

# One workspace's directory (by the API's scope: URL and hashed token): when it was read,
# lowercased name/display/real name -> user ID, and user ID -> the name Slack shows.
_directory_cache: dict[str, tuple[float, dict[str, str], dict[str, str]]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached user directory (tests, or after renaming people)."""
    with _cache_lock:
        _directory_cache.clear()


class People:
    """The look-ups of one run. Not thread-safe for writes: only the outbox's thread calls
    :meth:`step`; the other threads read the published results (plain values)."""

    def __init__(self, mentions: Iterable[Mention] = (), allowed: Iterable[Mention] | None = None) -> None:
        self.mentions = tuple(mentions)
        self.allowed = None if allowed is None else tuple(allowed)
        everyone = list(self.mentions) + [m for m in self.allowed or () if m not in self.mentions]
        self._pending = [m for m in everyone if m.markup is None]
        self._ids: dict[Mention, str] = {}
        self._shown: dict[str, str] = {}  # user ID -> the name Slack shows, for everyone read
        self.problems: list[str] = []
        self._unresolved: list[str] = []
        self._cursor: str | None = None
        self._by_name: dict[str, str] = {}
        self._secondary: dict[str, str] = {}
        self._failures = 0
        self.retry_at = 0.0
        """Clock time before which the next look-up waits (its own backoff)."""
        self.last_failure: Failure | None = None
        self._random = random.Random()

    @property
    def due(self) -> bool:
        """True while someone still needs a look-up."""
        return bool(self._pending)

    @property
    def markup(self) -> str:
        """The finish mentions as control sequences, those known so far (in the order given)."""
        return format_mentions(self._markup(m) for m in self.mentions)

    @property
    def names(self) -> dict[str, str]:
        """User ID -> the name Slack shows, for the people this run names (the views show a
        mention as Slack does: ``@alice``)."""
        ids = {m.value for m in self.mentions + (self.allowed or ()) if m.kind == "user"} | set(self._ids.values())
        return {user_id: self._shown[user_id] for user_id in ids if user_id in self._shown}

    @property
    def plain(self) -> str:
        """The finish mentions as plain text that notifies nobody (``@alice @channel``): for a
        final text that is also the message's first post, since the reply notifies them already."""
        words = []
        for mention in self.mentions:
            markup = self._markup(mention) or ""
            if markup.startswith("<@"):
                words.append("@" + self._shown.get(markup[2:-1], markup[2:-1]))
            elif mention.kind in ("special", "group"):
                words.append("@" + mention.value)
        return format_mentions(words)

    @property
    def allowed_ids(self) -> tuple[str, ...]:
        """The user IDs of who may press Stop, those known so far."""
        ids = (self._markup(m) for m in self.allowed or ())
        return tuple(dict.fromkeys(m[2:-1] for m in ids if m and m.startswith("<@")))

    def _markup(self, mention: Mention) -> str | None:
        if mention.markup is not None:
            return mention.markup
        found = self._ids.get(mention)
        return f"<@{found}>" if found else None

    def give_up(self, why: str) -> None:
        """Stop looking: the end of the run cannot wait longer (``why`` names the last fault)."""
        if self._pending:
            self._unresolved += [m.raw for m in self._pending]
            self._pending = []
            self._problem(why)

    def step(self, api: Api, now: float) -> Step:
        """One look-up call (or none, from the cache); DONE once nobody is pending."""
        if not self._pending:
            return DONE
        mention = self._pending[0]
        if mention.kind == "email":
            answer = api.call("users.lookupByEmail", urgent=True, email=mention.value)
            if answer.ok:
                user = answer.data.get("user") or {}
                self._found(mention, user.get("id"), user)
                return AGAIN
        else:
            if self._cached(api, now):
                return AGAIN
            arguments = {"limit": PAGE, **({"cursor": self._cursor} if self._cursor else {})}
            answer = api.call("users.list", urgent=True, **arguments)
            if answer.ok:
                self._read_page(api, answer.data, now)
                return AGAIN
        if answer.hold:  # the gate holds this method (another stream's 429): wait on our own
            self.retry_at = now + answer.wait
            return DONE
        return self._failed(mention, answer.failure, now)

    # -- answers ---------------------------------------------------------------------

    def _found(self, mention: Mention, user_id: str | None, member: dict | None = None) -> None:
        self._pending.remove(mention)
        if user_id:
            self._ids[mention] = user_id
            if member:
                self._shown[user_id] = _shown_name(member)
        else:
            self._unresolved.append(mention.raw)
            self._problem("no such user in the workspace")
        self._failures = 0

    def _read_page(self, api: Api, data: dict, now: float) -> None:
        for member in data.get("members") or []:
            if member.get("deleted") or not member.get("id"):
                continue
            self._shown[member["id"]] = _shown_name(member)
            profile = member.get("profile") or {}
            if member.get("name"):
                self._by_name.setdefault(member["name"].lower(), member["id"])
            for other in (profile.get("display_name"), profile.get("real_name"), member.get("real_name")):
                if other:
                    self._secondary.setdefault(other.lower(), member["id"])
        self._cursor = ((data.get("response_metadata") or {}).get("next_cursor")) or None
        self._failures = 0
        if self._cursor is None:
            # Exact user names win over display and real names, which people share more often.
            directory = {**self._secondary, **self._by_name}
            with _cache_lock:
                _directory_cache[api.scope] = (now, directory, dict(self._shown))
            self._resolve_names(directory)

    def _cached(self, api: Api, now: float) -> bool:
        with _cache_lock:
            cached = _directory_cache.get(api.scope)
        if cached is None or now - cached[0] >= CACHE_SECONDS:
            return False
        self._shown.update(cached[2])
        self._resolve_names(cached[1])
        return True

    def _resolve_names(self, directory: dict[str, str]) -> None:
        for mention in [m for m in self._pending if m.kind == "name"]:
            user_id = directory.get(mention.value)
            self._pending.remove(mention)
            if user_id:
                self._ids[mention] = user_id
            else:
                self._unresolved.append(mention.raw)
                self._problem("no such user in the workspace")

    def _failed(self, mention: Mention, failure: Failure, now: float) -> Step:
        self.last_failure = failure
        if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
            self._failures += 1
            if failure.kind is Kind.RATE_LIMITED:
                delay = failure.retry_after if failure.retry_after is not None else 1.0
            else:
                delay = min(RETRY_MOST, RETRY_BASE * 2 ** (self._failures - 1)) * self._random.uniform(0.5, 1.5)
            self.retry_at = now + delay
            return DONE  # not the outbox's backoff: the report goes on meanwhile
        if failure.error == "users_not_found":
            self._found(mention, None)
            return AGAIN
        lookups = [m for m in self._pending if (m.kind == "email") == (mention.kind == "email")]
        for other in lookups:
            self._pending.remove(other)
            self._unresolved.append(other.raw)
        if failure.error == "missing_scope":
            self._problem(f"add the {_needed(failure, mention)} scope to the Slack app to resolve them")
        else:
            self._problem(f"the look-up failed ({failure.error})")
        return AGAIN

    def _problem(self, why: str) -> None:
        if why not in self.problems:
            self.problems.append(why)

    def report(self) -> str:
        """One sentence naming who will not be notified and why ("" when everyone was found)."""
        if not self._unresolved:
            return ""
        return (f"Slack mentions not resolved, they will not be notified: {', '.join(self._unresolved)}: "
                f"{'; '.join(self.problems)}")


def _shown_name(member: dict) -> str:
    profile = member.get("profile") or {}
    return profile.get("display_name") or member.get("name") or profile.get("real_name") or member.get("id", "")


def _needed(failure: Failure, mention: Mention) -> str:
    if failure.needed:
        return failure.needed
    return "users:read.email" if mention.kind == "email" else "users:read"

