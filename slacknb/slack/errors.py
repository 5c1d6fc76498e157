"""Sort what a slack_sdk call raised into what the mirror should do about it.

slack_sdk reports a refused call as ``SlackApiError`` (an ``ok: false`` body, an HTTP
error status, or a body that is not JSON), a read timeout as a bare ``TimeoutError``
and a broken connection as ``URLError`` / ``ConnectionError`` / ``http.client``
exceptions. :func:`classify` turns all of these into one :class:`Failure` whose
``kind`` picks the reaction and whose ``fix`` is the sentence to show a person.
"""

from __future__ import annotations

import enum
import http.client
import socket
import urllib.error
from dataclasses import dataclass

__all__ = [
    "BOT_TOKEN_FIX", "Failure", "Kind", "NON_JSON_PREFIX", "classify", "error_name", "fix_for",
    "invite_fix"
]

NON_JSON_PREFIX = "Received a response in a non-JSON format"


class Kind(enum.Enum):
    """The reaction a failure calls for."""

    TRANSIENT = "transient"  # back off with jitter, then send the newest state
    RATE_LIMITED = "rate_limited"  # wait Retry-After, then send the newest state
    FATAL = "fatal"  # stop mirroring; ``fix`` says what the person must do
    MESSAGE_GONE = "message_gone"  # post a new message and keep editing that one
    TOO_LONG = "too_long"  # shrink the text and resend
    NOT_IN_CHANNEL = "not_in_channel"  # join once, else ask for /invite
    UNEXPECTED = "unexpected"  # unknown error name or a bug: retry a few times, then stop


@dataclass(frozen=True)
class Failure:
    """One classified failure of one API call."""

    kind: Kind
    error: str
    """Slack's error name ("channel_not_found"), "http_503", "non_json" or an exception type name."""
    fix: str = ""
    """Human text naming the fix (for FATAL and NOT_IN_CHANNEL), or a short description."""
    retry_after: float | None = None
    maybe_performed: bool = False
    """True when Slack may have carried the call out although we saw no success."""
    timed_out: bool = False
    """True when we stopped waiting for the answer: Slack may still carry the call out LATER."""
    needed: str | None = None
    """With missing_scope: the scope Slack named."""


_TRANSIENT_ERRORS = frozenset({"internal_error", "service_unavailable", "fatal_error", "request_timeout"})
# Errors after which Slack may have done the work (its docs say so for internal_error and
# fatal_error); service_unavailable is refused at the edge, before anything happens.
_MAYBE_PERFORMED_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout"})
_GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"})
_TOO_LONG_ERRORS = frozenset({"msg_too_long", "msg_blocks_too_long"})

_BOT_TOKEN = "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-...)"
BOT_TOKEN_FIX = _BOT_TOKEN  # what to do without a token (slacknb doctor says it too)
_NEW_TOKEN = "set SLACK_BOT_TOKEN to the new token"
_CREDENTIALS_FIX = {
    "invalid_auth": f"the Slack token was not accepted (invalid_auth): {_BOT_TOKEN}",
    "not_authed": f"no Slack token reached Slack (not_authed): {_BOT_TOKEN}",
    "token_revoked": f"the Slack token was revoked (token_revoked): reinstall the app and {_NEW_TOKEN}",
    "token_expired": f"the Slack token expired (token_expired): refresh or reinstall the app and {_NEW_TOKEN}",
    "account_inactive": (
        "the Slack token belongs to a deactivated user or workspace (account_inactive): "
        "reinstall the app with an active account"
    ),
    "not_allowed_token_type": f"this kind of Slack token cannot post messages (not_allowed_token_type): {_BOT_TOKEN}",
}


# Nothing reached the server: the call cannot have been performed.
_REFUSED = Failure(Kind.TRANSIENT, "connection_refused", "the Slack API refused the connection")


def _network_failure(cause: BaseException, detail: str) -> Failure:
    """Read timeouts, resets and half-read answers: the request may have gone through."""
    return Failure(
        Kind.TRANSIENT,
        type(cause).__name__,
        f"network error: {detail}",
        maybe_performed=True,
        timed_out=isinstance(cause, TimeoutError),
    )


def classify(exc: BaseException, *, channel: str | None = None) -> Failure:
    """Classify what a WebClient call raised. ``channel`` is only used in the fix text."""
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "status_code"):
        return _classify_response(response, channel)
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            return _REFUSED
        if isinstance(reason, socket.gaierror):
            return Failure(Kind.TRANSIENT, "dns_error", "the Slack API host name could not be resolved")
        return _network_failure(reason, str(reason))
    if isinstance(exc, ConnectionRefusedError):
        return _REFUSED
    if isinstance(exc, (TimeoutError, ConnectionError, http.client.HTTPException, OSError)):
        return _network_failure(exc, type(exc).__name__)
    name = type(exc).__name__
    if name == "SlackRequestError":
        fix = f"slack_sdk refused the request ({exc}): check SLACKNB_API_URL / base_url"
        return Failure(Kind.FATAL, "bad_request", fix)
    return Failure(Kind.UNEXPECTED, name, f"unexpected {name}: {exc}")


def error_name(exc: BaseException) -> str | None:
    """Slack's error name from a SlackApiError (``None`` for other exceptions)."""
    response = getattr(exc, "response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        error = data.get("error")
        return str(error) if error is not None else None
    return None


def _classify_response(response, channel: str | None) -> Failure:
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    data = data if isinstance(data, dict) else {}
    error = str(data.get("error") or "")
    if status == 429 or error == "ratelimited":
        return Failure(Kind.RATE_LIMITED, "ratelimited", "rate limited by Slack", retry_after=_retry_after(response))
    if error.startswith(NON_JSON_PREFIX) or status >= 500:
        # An HTML page from Slack's edge or a proxy: nothing says whether the call ran.
        label = f"http_{status}" if status >= 500 else "non_json"
        what = f"HTTP {status}" if status >= 500 else "a non-JSON answer"
        return Failure(Kind.TRANSIENT, label, f"Slack answered with {what}", maybe_performed=True)
    if error in _TRANSIENT_ERRORS:
        maybe = error in _MAYBE_PERFORMED_ERRORS
        return Failure(Kind.TRANSIENT, error, f"Slack reported {error}", maybe_performed=maybe)
    if error in _GONE_ERRORS:
        return Failure(Kind.MESSAGE_GONE, error, f"the message can no longer be edited ({error})")
    if error in _TOO_LONG_ERRORS:
        return Failure(Kind.TOO_LONG, error, f"the message is too long for Slack ({error})")
    if error == "not_in_channel":
        return Failure(Kind.NOT_IN_CHANNEL, error, _invite_fix(channel, error))
    fix = _fatal_fix(error, data, channel)
    if fix is not None:
        needed = data.get("needed") if error == "missing_scope" else None
        return Failure(Kind.FATAL, error, fix, needed=str(needed) if needed else None)
    if status >= 400 and not error:
        return Failure(Kind.UNEXPECTED, f"http_{status}", f"Slack answered with HTTP {status}")
    return Failure(Kind.UNEXPECTED, error or "unknown_error", f"Slack reported {error or 'an unknown error'}")


def _fatal_fix(error: str, data: dict, channel: str | None) -> str | None:
    where = channel or "the channel"
    if error in _CREDENTIALS_FIX:
        return _CREDENTIALS_FIX[error]
    if error == "missing_scope":
        needed = data.get("needed") or "the scope named in Slack's answer"
        return (
            f"the Slack app lacks the {needed} scope (missing_scope): add it under OAuth & Permissions, "
            "reinstall the app and use the new token"
        )
    if error == "channel_not_found":
        return f"channel {where} not found: is the ID right and the bot invited? /invite @yourbot in that channel"
    if error in ("is_archived", "is_inactive"):
        return f"channel {where} is archived ({error}): unarchive it or set SLACK_CHANNEL_ID to another channel"
    if error in ("restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel"):
        return f"the workspace does not let this app post in {where} ({error}): ask an admin, or use another channel"
    if error in ("access_denied", "no_permission", "team_access_not_granted", "ekm_access_denied"):
        return f"the app may not use {where} ({error}): check the app's installation and permissions"
    return None


def fix_for(error: str, *, channel: str | None = None, needed: str | None = None) -> str | None:
    """The fix sentence for Slack's ``error`` name (None when it needs no person), as a run
    would say it; ``slacknb doctor`` says the same."""
    return _fatal_fix(error, {"needed": needed} if needed else {}, channel)


def _invite_fix(channel: str | None, reason: str) -> str:
    where = channel or "the channel"
    return f"the bot is not a member of {where} ({reason}): run /invite @yourbot in {where}"


def invite_fix(channel: str | None, reason: str) -> str:
    """The fix sentence for a bot that is not in the channel and could not join it."""
    return _invite_fix(channel, reason)


def _retry_after(response) -> float:
    headers = getattr(response, "headers", None) or {}
    value = None
    for key, header_value in dict(headers).items():
        if str(key).lower() == "retry-after":
            value = header_value[0] if isinstance(header_value, (list, tuple)) else header_value
            break
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 1.0  # Slack always sends it; 1 s is its smallest value.
    return max(0.0, min(seconds, 3600.0))

