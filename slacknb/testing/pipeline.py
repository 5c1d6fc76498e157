"""How one request becomes an answer: faults, latency, auth, rate limit, scope, then
the method itself. The other half of :class:`~slacknb.testing.server.SlackServer`,
working on its state under its lock (waits happen outside the lock).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Hashable
from urllib.parse import urlsplit

from . import wire
from .context import ApiError, Context, missing_scope
from .faults import Fault
from .file_methods import store_bytes
from .methods import METHODS, authenticate
from .ratelimit import POST_MESSAGE
from .socket_mode import find_button
from .wire import Reply

#: POST here (form fields channel, ts, user, action_id; all optional) to press a button
#: from outside the process, e.g. with curl while ``slacknb server`` runs.
PRESS_PATH = "/local/press"
#: GET here (optional field channel, an ID or a name) for every message the server holds,
#: with its edit history, thread replies and files, as JSON.
MESSAGES_PATH = "/local/messages"

if TYPE_CHECKING:
    from .server import SlackServer

__all__ = ["Call", "MESSAGES_PATH", "PRESS_PATH", "handle"]


@dataclass(frozen=True)
class Call:
    """One request as the server saw it. ``status`` 0 means the connection was dropped
    without an answer; ``at`` is ``time.monotonic()`` when the request arrived."""

    method: str
    at: float
    status: int
    ok: bool
    error: str | None = None
    retry_after: int | None = None
    channel: str | None = None


def handle(server: SlackServer, handler: BaseHTTPRequestHandler) -> None:
    """Answer one HTTP request (or drop it) and record it as a Call."""
    arrived = time.monotonic()
    body = wire.read_body(handler)
    parts = urlsplit(handler.path)
    if parts.path == PRESS_PATH:
        # The server's own control, not a Slack method: not recorded as a call.
        wire.send(handler, _press(server, parts.query, body, handler.headers.get("Content-Type") or ""))
        return
    if parts.path == MESSAGES_PATH:
        wire.send(handler, _list_messages(server, parts.query, body, handler.headers.get("Content-Type") or ""))
        return
    is_upload = parts.path.startswith("/upload/")
    method = "upload" if is_upload else parts.path.removeprefix("/api/")
    if server.down:
        reply, channel = Reply.dropped(), None
    elif is_upload:
        channel = None
        reply = _receive_upload(server, parts.path[len("/upload/"):], body)
    elif not parts.path.startswith("/api/"):
        reply, channel = Reply(status=404, body=b"Not Found", content_type=wire.TEXT, error="http_404"), None
    else:
        try:
            params = wire.parse_params(parts.query, body, handler.headers.get("Content-Type") or "")
        except ApiError as e:
            params, reply = {}, Reply.api({"ok": False, "error": e.error})
        else:
            reply = None
        token = wire.bearer_token(handler) or _text(params.get("token"))
        channel = _channel_of(server, params)
        if reply is None:
            reply = _answer(server, method, params, token, channel, arrived)
    with server._changed:
        server._calls.append(Call(method=method, at=arrived, status=reply.status, ok=reply.ok,
                                error=reply.error, retry_after=reply.retry_after, channel=channel))
        server._changed.notify_all()
    wire.send(handler, reply)


def _answer(server: SlackServer, method: str, params: dict[str, Any], token: str | None, channel: str | None,
            arrived: float) -> Reply:
    key = _caller(method, token, channel)
    with server.lock:
        server._retries.arrived(method, key, at=arrived)
        fault = server._faults.take(method)
    if server.latency and server._pause(server.latency):
        return Reply.dropped()
    if fault is not None and not fault.after:
        if fault.delay and server._pause(fault.delay):
            return Reply.dropped()
        if fault.spoils_answer:
            return _spoil(server, fault, method, key)
    reply = _perform(server, method, params, token, key)
    if fault is not None and fault.after:
        if fault.delay and server._pause(fault.delay):
            return Reply.dropped()
        if fault.spoils_answer:
            return _spoil(server, fault, method, key)
    return reply


def _perform(server: SlackServer, method: str, params: dict[str, Any], token: str | None, key: Hashable) -> Reply:
    spec = METHODS.get(method)
    headers: dict[str, str] = {}
    with server.lock:
        try:
            if spec is None:
                raise ApiError("unknown_method")
            info = authenticate(server.workspace, token, spec.token_kind)
            headers["x-oauth-scopes"] = ",".join(info.scopes)
            if spec.scope:
                headers["x-accepted-oauth-scopes"] = spec.scope
            if server.rate_limits:
                retry_after = server._limiter.acquire(method, key)
                if retry_after is not None:
                    return _too_many(server, method, key, retry_after, headers)
            if spec.scope and spec.scope not in info.scopes:
                raise missing_scope(info, spec.scope)
            ctx = Context(workspace=server.workspace, store=server._store, uploads=server._uploads,
                          root=server._root or "", info=info, params=params, new_file_id=server._new_file_id,
                          open_socket=server._sockets.open_url)
            payload = {"ok": True, **spec.run(ctx)}
        except ApiError as e:
            payload = {"ok": False, "error": e.error, **e.extra}
        except Exception as e:  # a bug here, not a Slack behaviour: keep it visible to tests
            server.errors.append(server._redact(f"{method}: {type(e).__name__}: {e}"))
            return Reply.api({"ok": False, "error": "internal_error"}, status=500, headers=headers)
    return Reply.api(payload, headers=headers)


def _spoil(server: SlackServer, fault: Fault, method: str, key: Hashable) -> Reply:
    if fault.drop:
        return Reply.dropped()
    if fault.error == "ratelimited":
        with server.lock:
            return _too_many(server, method, key, fault.retry_after or 1, {})
    if fault.non_json:
        page = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
        return Reply(status=fault.status or 200, body=page, content_type=wire.HTML, error="non_json")
    if fault.error:
        return Reply.api({"ok": False, "error": fault.error, **fault.extra}, status=fault.status or 200)
    return Reply.edge_error(fault.status)


def _too_many(server: SlackServer, method: str, key: Hashable, retry_after: int, headers: dict[str, str]) -> Reply:
    server.ratelimited += 1
    server._retries.rejected(method, key, retry_after)
    headers = {**headers, "Retry-After": str(retry_after)}
    return Reply.api({"ok": False, "error": "ratelimited"}, status=429, headers=headers,
                     retry_after=retry_after)


def _receive_upload(server: SlackServer, file_id: str, body: bytes) -> Reply:
    with server.lock:
        stored = store_bytes(server._uploads, file_id, body)
    if not stored:
        return Reply(status=404, body=b"upload URL not found", content_type=wire.TEXT, error="http_404")
    return Reply(status=200, body=f"OK - {len(body)}".encode(), content_type=wire.TEXT, ok=True)


def _press(server: SlackServer, query: str, body: bytes, content_type: str) -> Reply:
    """Press a button for :data:`PRESS_PATH`: by default alice presses the first button
    of the newest message that has one in the default channel."""
    try:
        params = wire.parse_params(query, body, content_type)
        channel = _text(params.get("channel")) or server.channel_id
        ts = _text(params.get("ts")) or _newest_with_button(server, channel)
        envelope_id = server.press(channel, ts, _text(params.get("action_id")),
                                   user=_text(params.get("user")) or "U0ALICE")
    except (ApiError, ValueError, RuntimeError) as e:
        return Reply.api({"ok": False, "error": str(e)}, status=400)
    return Reply.api({"ok": True, "envelope_id": envelope_id})


def _list_messages(server: SlackServer, query: str, body: bytes, content_type: str) -> Reply:
    """What :data:`MESSAGES_PATH` answers: every top-level message (of one channel if
    asked), oldest first, each with ``history`` (every text it had) and its ``replies``."""
    try:
        params = wire.parse_params(query, body, content_type)
    except ApiError as e:
        return Reply.api({"ok": False, "error": e.error}, status=400)
    ref = _text(params.get("channel"))
    with server.lock:
        channel = server.workspace.find_channel(ref) if ref else None
        if ref and channel is None:
            return Reply.api({"ok": False, "error": "channel_not_found"}, status=404)
        found = server._store.top_level(channel.id if channel else None)
        listed = [_listed(m) for m in found]
    return Reply.api({"ok": True, "messages": listed})


def _listed(message) -> dict[str, Any]:
    out = {**message.to_api(include_metadata=True), "channel": message.channel, "history": list(message.history)}
    if message.deleted:
        out["deleted"] = True
    out["replies"] = [_listed(reply) for reply in message.replies]
    return out


def _newest_with_button(server: SlackServer, channel: str) -> str:
    with server.lock:
        found = server.workspace.find_channel(channel)
        for message in reversed(server._store.top_level(found.id if found else channel)):
            try:
                find_button(message)
            except ValueError:
                continue
            if not message.deleted:
                return message.ts
    raise ValueError(f"no message with a button in {channel}")


def _channel_of(server: SlackServer, params: dict[str, Any]) -> str | None:
    ref = _text(params.get("channel") or params.get("channel_id"))
    if ref is None:
        return None
    with server.lock:
        found = server.workspace.find_channel(ref)
    return found.id if found is not None else ref


def _caller(method: str, token: str | None, channel: str | None) -> Hashable:
    # Limits are per token (and per channel for chat.postMessage); a digest keeps the
    # token itself out of the bookkeeping.
    who = hashlib.sha256((token or "").encode()).hexdigest()[:16]
    return (who, channel) if method == POST_MESSAGE else who


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
