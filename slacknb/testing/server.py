"""A real HTTP server on 127.0.0.1 that speaks enough of Slack's Web API for
``slack_sdk.WebClient(token=..., base_url=server.url)`` to work unchanged.

Everything a test needs to provoke and observe lives on :class:`SlackServer`:
rate limits, injected faults, the messages posted and every call made.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Hashable
from urllib.parse import urlsplit

from . import wire
from .context import ApiError, Context, missing_scope
from .faults import Fault, FaultHandle, FaultQueue, make_fault
from .file_methods import store_bytes
from .messages import Message, MessageStore
from .methods import METHODS, authenticate
from .ratelimit import POST_MESSAGE, RateLimiter, RetryLedger
from .wire import Reply
from .workspace import DEFAULT_CHANNEL_ID, DEFAULT_TOKEN, Workspace


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


class SlackServer:
    """A local Slack Web API. Use as a context manager, or ``start()`` / ``stop()``.

    ``rate_limits``, ``latency`` (seconds before every answer) and ``down`` (drop every
    connection) can be changed while it runs; ``workspace`` is live state too.
    """

    def __init__(self, workspace: Workspace | None = None, *, rate_limits: bool = True,
                 latency: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.workspace = workspace if workspace is not None else Workspace.default()
        self.rate_limits = rate_limits
        self.latency = latency
        self.down = False
        #: Number of 429 answers served (real and injected).
        self.ratelimited = 0
        #: Exceptions raised inside the server itself (its bugs, not Slack behaviours).
        self.errors: list[str] = []
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._store = MessageStore()
        self._limiter = RateLimiter()
        self._retries = RetryLedger()
        self._faults = FaultQueue()
        self._calls: list[Call] = []
        self._uploads: dict[str, dict] = {}
        self._files_made = 0
        self._address = (host, port)
        self._httpd: _HTTPServer | None = None
        self._root: str | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> SlackServer:
        """Listen on an ephemeral port (unless one was given) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer(self._address, _Handler)
        self._httpd.owner = self
        host, port = self._httpd.server_address[:2]
        self._root = f"http://{host}:{port}"
        # A short poll interval keeps stop() fast: tests start and stop many servers.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="slacknb-local-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; answers still waiting on a delay are dropped."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._root = None

    def __enter__(self) -> SlackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"SlackServer({where})"

    # -- where to point clients ---------------------------------------------------------

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` (permalinks and upload URLs hang off it)."""
        if self._root is None:
            raise RuntimeError("the local Slack server is not running: call start() or use it in a with-block")
        return self._root

    @property
    def url(self) -> str:
        """The API base URL for ``WebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.root}/api/"

    @property
    def token(self) -> str:
        """The default bot token (a local fake: ``xoxb-local-slacknb-token``)."""
        return DEFAULT_TOKEN if DEFAULT_TOKEN in self.workspace.tokens else next(iter(self.workspace.tokens))

    @property
    def channel_id(self) -> str:
        """The default channel's ID, ``C0TRAINING``."""
        channels = self.workspace.channels
        return DEFAULT_CHANNEL_ID if DEFAULT_CHANNEL_ID in channels else next(iter(channels))

    # -- provoking ------------------------------------------------------------------

    def inject(self, method: str, *, error: str | None = None, status: int | None = None,
               drop: bool = False, after: bool = False, non_json: bool = False,
               delay: float | None = None, retry_after: int | None = None,
               times: int | None = 1, **extra: Any) -> FaultHandle:
        """Make the next ``times`` calls of ``method`` misbehave (None: until cleared).

        ``error`` answers ok:false with that error (extra keywords join the body, e.g.
        ``needed=``); ``error="ratelimited"`` is a 429 with ``Retry-After: retry_after``;
        ``status`` an HTTP error with an HTML body; ``drop`` resets the connection;
        ``non_json`` answers 200 with HTML; ``delay`` waits first. With ``after=True`` the
        call is performed before the answer is spoiled (or delayed). ``"*"`` matches
        every method. Faults apply in the order injected.
        """
        fault = make_fault(method, error=error, status=status, drop=drop, after=after, non_json=non_json,
                           delay=delay, retry_after=retry_after, times=times, extra=extra)
        with self.lock:
            self._faults.add(fault)
        return FaultHandle(fault, self.lock, self._faults)

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self.lock:
            self._faults.clear()

    def set_rate_limit(self, method: str, per_minute: int | None, *, burst: int | None = None) -> None:
        """Override one method's limit (None lifts it); for chat.postMessage it is the
        per-channel refill rate, and ``burst`` the bucket size."""
        with self.lock:
            self._limiter.set_limit(method, per_minute, burst=burst)

    def add_message(self, channel: str, text: str, *, user: str = "U0ALICE",
                    thread_ts: str | None = None) -> Message:
        """Put a message from someone else (a human by default) into a channel, e.g. to
        see ``cant_update_message``. Returns a snapshot of it."""
        with self.lock:
            parent = self._store.get(channel, thread_ts) if thread_ts else None
            if thread_ts and parent is None:
                raise ValueError(f"no message {thread_ts} in {channel} to reply to")
            message = Message(ts=self._store.next_ts(), channel=channel, text=text, user=user)
            self._store.add(message, parent=parent)
            self._changed.notify_all()
            return copy.deepcopy(message)

    # -- observing ------------------------------------------------------------------

    def messages(self, channel: str | None = None, *, include_deleted: bool = True) -> list[Message]:
        """Top-level messages, oldest first, optionally of one channel (by ID). Snapshots:
        they do not change when the server's own copies do."""
        with self.lock:
            found = [m for m in self._store.top_level(channel) if include_deleted or not m.deleted]
            return MessageStore.snapshot(found)

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order of completion."""
        with self.lock:
            return list(self._calls)

    def call_counts(self) -> collections.Counter:
        """Calls per method, rejected ones included."""
        with self.lock:
            return collections.Counter(c.method for c in self._calls)

    @property
    def early_retries(self) -> int:
        """Calls made to a (method, caller) before the Retry-After of its last 429 elapsed."""
        with self.lock:
            return self._retries.early

    @property
    def uploads(self) -> dict[str, dict]:
        """``{file_id: {"filename", "title", "bytes", "channel_id", "thread_ts", ...}}`` (a copy)."""
        with self.lock:
            return copy.deepcopy(self._uploads)

    def wait_for(self, predicate: Callable[[SlackServer], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(server)`` holds (re-checked after each request); False
        if it still does not after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def reset(self) -> None:
        """Forget messages, calls, uploads, faults and rate-limit history; keep the workspace."""
        with self.lock:
            self._store.clear()
            self._calls.clear()
            self._uploads.clear()
            self._faults.clear()
            self._limiter.reset()
            self._retries.reset()
            self.ratelimited = 0
            self.errors.clear()

    # -- serving --------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        body = wire.read_body(handler)
        parts = urlsplit(handler.path)
        method = parts.path[len("/api/"):] if parts.path.startswith("/api/") else parts.path.strip("/")
        if self.down:
            reply, channel = Reply.dropped(), None
        elif parts.path.startswith("/upload/"):
            method, channel = "upload", None
            reply = self._receive_upload(parts.path[len("/upload/"):], body)
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
            channel = self._channel_of(params)
            if reply is None:
                reply = self._answer(method, params, token, channel, arrived)
        with self._changed:
            self._calls.append(Call(method=method, at=arrived, status=reply.status, ok=reply.ok,
                                    error=reply.error, retry_after=reply.retry_after, channel=channel))
            self._changed.notify_all()
        wire.send(handler, reply)

    def _answer(self, method: str, params: dict[str, Any], token: str | None, channel: str | None,
                arrived: float) -> Reply:
        key = _caller(method, token, channel)
        with self.lock:
            self._retries.arrived(method, key, at=arrived)
            fault = self._faults.take(method)
        if self.latency and self._pause(self.latency):
            return Reply.dropped()
        if fault is not None and not fault.after:
            if fault.delay and self._pause(fault.delay):
                return Reply.dropped()
            if fault.spoils_answer:
                return self._spoil(fault, method, key, token)
        reply = self._perform(method, params, token, key)
        if fault is not None and fault.after:
            if fault.delay and self._pause(fault.delay):
                return Reply.dropped()
            if fault.spoils_answer:
                return self._spoil(fault, method, key, token)
        return reply

    def _perform(self, method: str, params: dict[str, Any], token: str | None, key: Hashable) -> Reply:
        spec = METHODS.get(method)
        headers: dict[str, str] = {}
        with self.lock:
            try:
                if spec is None:
                    raise ApiError("unknown_method")
                info = authenticate(self.workspace, token)
                headers["x-oauth-scopes"] = ",".join(info.scopes)
                if spec.scope:
                    headers["x-accepted-oauth-scopes"] = spec.scope
                if self.rate_limits:
                    retry_after = self._limiter.acquire(method, key)
                    if retry_after is not None:
                        return self._too_many(method, key, retry_after, headers)
                if spec.scope and spec.scope not in info.scopes:
                    raise missing_scope(info, spec.scope)
                ctx = Context(workspace=self.workspace, store=self._store, uploads=self._uploads,
                              root=self._root or "", info=info, params=params, new_file_id=self._new_file_id)
                payload = {"ok": True, **spec.run(ctx)}
            except ApiError as e:
                payload = {"ok": False, "error": e.error, **e.extra}
            except Exception as e:  # a bug here, not a Slack behaviour: keep it visible to tests
                self.errors.append(self._redact(f"{method}: {type(e).__name__}: {e}"))
                return Reply.api({"ok": False, "error": "internal_error"}, status=500, headers=headers)
        return Reply.api(payload, headers=headers)

    def _spoil(self, fault: Fault, method: str, key: Hashable, token: str | None) -> Reply:
        if fault.drop:
            return Reply.dropped()
        if fault.error == "ratelimited":
            with self.lock:
                return self._too_many(method, key, fault.retry_after or 1, {})
        if fault.non_json:
            page = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
            return Reply(status=fault.status or 200, body=page, content_type=wire.HTML, error="non_json")
        if fault.error:
            return Reply.api({"ok": False, "error": fault.error, **fault.extra}, status=fault.status or 200)
        return Reply.edge_error(fault.status)

    def _too_many(self, method: str, key: Hashable, retry_after: int, headers: dict[str, str]) -> Reply:
        self.ratelimited += 1
        self._retries.rejected(method, key, retry_after)
        headers = {**headers, "Retry-After": str(retry_after)}
        return Reply.api({"ok": False, "error": "ratelimited"}, status=429, headers=headers,
                         retry_after=retry_after)

    def _receive_upload(self, file_id: str, body: bytes) -> Reply:
        with self.lock:
            stored = store_bytes(self._uploads, file_id, body)
        if not stored:
            return Reply(status=404, body=b"upload URL not found", content_type=wire.TEXT, error="http_404")
        return Reply(status=200, body=f"OK - {len(body)}".encode(), content_type=wire.TEXT, ok=True)

    def _pause(self, seconds: float) -> bool:
        """Wait, unless the server stops meanwhile (then True: drop the answer)."""
        return self._stopping.wait(seconds)

    def _channel_of(self, params: dict[str, Any]) -> str | None:
        ref = _text(params.get("channel") or params.get("channel_id"))
        if ref is None:
            return None
        with self.lock:
            found = self.workspace.find_channel(ref)
        return found.id if found is not None else ref

    def _new_file_id(self) -> str:
        self._files_made += 1
        return f"F0LOCAL{self._files_made:05d}"

    def _redact(self, text: str) -> str:
        for token in list(self.workspace.tokens):
            text = text.replace(token, "xox?-(redacted)")
        return text


def _caller(method: str, token: str | None, channel: str | None) -> Hashable:
    # Limits are per token (and per channel for chat.postMessage); a digest keeps the
    # token itself out of the bookkeeping.
    who = hashlib.sha256((token or "").encode()).hexdigest()[:16]
    return (who, channel) if method == POST_MESSAGE else who


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: SlackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or went away mid-answer is normal here (delays,
        # drops); printing a traceback would only be noise in test output.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slacknb-local-slack"
    sys_version = ""
    server: _HTTPServer

    def do_POST(self) -> None:
        self.server.owner._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        # Never log requests: they carry tokens, and tests want quiet output.
        pass
