"""A real HTTP server on 127.0.0.1 that speaks enough of Slack's Web API for
``slack_sdk.WebClient(token=..., base_url=server.url)`` to work unchanged.

Everything a test needs to provoke and observe lives on :class:`SlackServer`:
rate limits, injected faults, the messages posted and every call made.
"""

from __future__ import annotations

import collections
import copy
import functools
import threading
import time
from typing import Any, Callable

from . import pipeline
from .faults import FaultHandle, FaultQueue, make_fault
from .messages import Change, Ephemeral, Message, MessageStore
from .pipeline import Call
from .ratelimit import RateLimiter, RetryLedger
from .socket_mode import Ack, SocketHub, SocketModeSide
from .wire import HTTPServer
from .workspace import DEFAULT_APP_TOKEN, DEFAULT_CHANNEL_ID, DEFAULT_TOKEN, Workspace

__all__ = ["Ack", "Call", "SlackServer"]


class SlackServer(SocketModeSide):
    """A local Slack Web API. Use as a context manager, or ``start()`` / ``stop()``.

    ``rate_limits``, ``latency`` (seconds before every answer) and ``down`` (drop every
    connection) can be changed while it runs; ``workspace`` is live state too.

    It speaks Socket Mode as well: ``slack_sdk.socket_mode.SocketModeClient`` connects
    with :attr:`app_token`, and :meth:`press` clicks a message's button as a user.
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
        self._sockets = SocketHub(self)
        self._address = (host, port)
        self._httpd: HTTPServer | None = None
        self._root: str | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> SlackServer:
        """Listen on an ephemeral port (unless one was given) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = HTTPServer(self._address, functools.partial(pipeline.handle, self))
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
        self._sockets.stop()
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
    def app_token(self) -> str:
        """The default app-level token for Socket Mode (``xapp-1-local-slacknb-app-token``)."""
        tokens = self.workspace.tokens
        if DEFAULT_APP_TOKEN in tokens:
            return DEFAULT_APP_TOKEN
        for token, info in tokens.items():
            if info.kind == "app":
                return token
        raise LookupError("this workspace has no app-level token: add one with TokenInfo(kind='app')")

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

    def ephemerals(self, channel: str | None = None) -> list[Ephemeral]:
        """chat.postEphemeral messages, oldest first, optionally of one channel (by ID)."""
        with self.lock:
            return copy.deepcopy([e for e in self._store.ephemerals if channel is None or e.channel == channel])

    def messages(self, channel: str | None = None, *, include_deleted: bool = True) -> list[Message]:
        """Top-level messages, oldest first, optionally of one channel (by ID). Snapshots:
        they do not change when the server's own copies do."""
        with self.lock:
            found = [m for m in self._store.top_level(channel) if include_deleted or not m.deleted]
            return MessageStore.snapshot(found)

    def changes(self, since: int = 0) -> list[Change]:
        """Every message, edit, deletion, ephemeral message and shared file, in the order
        they happened, from the ``since``-th on (``slacknb server --show`` prints them)."""
        with self.lock:
            return self._store.changes[since:]

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in the order they were answered (``at`` is when each arrived)."""
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
        if it still does not after ``timeout`` seconds.

        The predicate runs under the server's lock: it may inspect the server, but must
        not call it over HTTP.
        """
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
            self._sockets.envelopes.clear()
            self._sockets.acks.clear()
            self.ratelimited = 0
            self.errors.clear()

    # -- helpers the request pipeline uses ---------------------------------------------

    def _pause(self, seconds: float) -> bool:
        """Wait, unless the server stops meanwhile (then True: drop the answer)."""
        return self._stopping.wait(seconds)

    def _new_file_id(self) -> str:
        self._files_made += 1
        return f"F0LOCAL{self._files_made:05d}"

    def _redact(self, text: str) -> str:
        for token in list(self.workspace.tokens):
            text = text.replace(token, "xox?-(redacted)")
        return text
