"""The Stop button's ear: listen for clicks over Socket Mode while a run trains.

slack_sdk's built-in ``SocketModeClient`` (app-level token ``xapp-...`` from ``SLACK_APP_TOKEN``
only) is opened when the run starts and closed when it ends; it reconnects on its own after a
drop or a ``disconnect`` envelope. Every envelope is acknowledged at once (Slack wants that
within 3 seconds). A click counts only when it comes from this app (``api_app_id``, as Socket
Mode's ``hello`` names it) and this workspace (``team.id``, as ``auth.test`` says), carries this
run's stream id (a button on an old message never stops a new run) and the clicking user is
allowed; anyone else gets an ephemeral answer, and so does a click after the run ended. What a
click means is the pure :func:`verdict`. Who is allowed comes from the run's one look-up of its
people (:mod:`slacknb.slack.people`); the listener's own web calls (``auth.test``,
``chat.postEphemeral``) go through the run's :class:`~slacknb.slack.api.Api`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Mapping, Sequence

from slacknb.core.blocks import STOP_ACTION_ID
from slacknb.core.stop import StopRequest, StopSignal
from slacknb.runtime.notice import warn
from slacknb.slack.config import APP_TOKEN_ENV_VAR
from slacknb.slack.state import SlackMirrorWarning

__all__ = ["Click", "StopListener", "read_click", "verdict"]

# slack_sdk logs every request's URL, body and headers at DEBUG when its logger's own level
# allows it. The app token must not depend on that: this logger never allows DEBUG. Its records
# still reach handlers the user configured, and never stderr by default.
_log = logging.getLogger("slacknb.slack.stop_listener")
_log.setLevel(logging.INFO)
_log.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Click:
    """A press of a Stop button: who, where, from which app and workspace, and the run it names."""

    user_id: str
    channel_id: str
    stream_id: str
    message_ts: str = ""
    app_id: str = ""
    team_id: str = ""


def read_click(payload: Mapping) -> Click | None:
    """The Stop click in a ``block_actions`` payload, or None when it holds none."""
    if not isinstance(payload, Mapping) or payload.get("type") != "block_actions":
        return None
    for action in payload.get("actions") or ():
        if isinstance(action, Mapping) and action.get("action_id") == STOP_ACTION_ID:
            user = payload.get("user") or {}
            container = payload.get("container") or {}
            channel = container.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
            team = (payload.get("team") or {}).get("id") or user.get("team_id") or ""
            return Click(str(user.get("id") or ""), str(channel), str(action.get("value") or ""),
                         str(container.get("message_ts") or ""), str(payload.get("api_app_id") or ""), str(team))
    return None


def verdict(click: Click, *, stream_id: str, allowed: Sequence[str], ended: str | None,
            stopping: StopRequest | None, app_id: str | None = None, team_id: str | None = None) -> tuple[str, str]:
    """What a click means: ``(kind, answer)``. ``kind`` is "ignore" (another app's, another
    workspace's or another run's button; also while this app or workspace is not known yet),
    "ended", "refuse", "stopping" (someone already did) or "stop"; ``answer`` is the ephemeral
    text for the clicking user ("" for none)."""
    if not app_id or click.app_id != app_id or not team_id or click.team_id != team_id:
        return "ignore", ""
    if click.stream_id != stream_id:
        return "ignore", ""
    if ended is not None:
        return "ended", f"This run already ended ({ended})."
    if click.user_id not in allowed:
        return "refuse", f"Only {_people(allowed)} can stop this run."
    if stopping is not None:
        return "stopping", f"This run is already stopping ({stopping.description})."
    return "stop", ""


def _people(user_ids: Sequence[str]) -> str:
    names = [f"<@{u}>" for u in user_ids]
    if not names:
        return "nobody"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class StopListener:
    """Listens for Stop clicks on one run's message; writes accepted ones into ``signal``.

    ``api`` is the run's :class:`~slacknb.slack.api.Api` (the bot token's web calls);
    ``people`` the run's :class:`~slacknb.slack.people.People` (who may press); the app token
    only opens the WebSocket. ``ping_interval`` is how often the connection is checked (a
    dropped one is replaced within about that long).
    """

    def __init__(self, *, app_token: str, api, people, signal: StopSignal, ping_interval: float = 5.0) -> None:
        self._app_token = app_token
        self._api = api
        self._people = people
        self.stream_id = secrets.token_hex(8)
        self._signal = signal
        self._ping_interval = ping_interval
        self.app_id: str | None = None
        self.team_id: str | None = None
        self.listening = False
        """True once connected (the button is worth showing); a drop is reconnected."""
        self.answers: list[tuple[str, str]] = []  # (kind, user ID) of every Stop click seen
        self._answered = threading.Condition()
        self._socket = None
        self._lock = threading.Lock()
        self._closed = False
        self._started = threading.Event()

    @classmethod
    def for_mirror(cls, settings, outbox, signal: StopSignal) -> StopListener | None:
        """The listener of a mirror's run, or None (with one warning naming what to set) without
        ``SLACK_APP_TOKEN``."""
        if settings.app_token is None:
            warn(f"slacknb: stop_button=True, but {APP_TOKEN_ENV_VAR} is not set: set it to the Slack app's "
                 "app-level token (xapp-..., scope connections:write, Socket Mode and Interactivity "
                 "enabled). The run goes on without a Stop button in Slack.", SlackMirrorWarning)
            return None
        return cls(app_token=settings.app_token, api=outbox.message.api, people=outbox.people, signal=signal)

    @property
    def allowed(self) -> tuple[str, ...]:
        """The user IDs who may press Stop, as far as the run's look-ups found them."""
        return self._people.allowed_ids

    def __repr__(self) -> str:
        # The app token is never part of it.
        state = "closed" if self._closed else ("listening" if self._socket is not None else "starting")
        return f"<StopListener {state} allowed={list(self.allowed)!r}>"

    def start(self) -> None:
        """Connect on a thread of its own: training starts at once."""
        threading.Thread(target=self._start, name="slacknb-stop-listener", daemon=True).start()

    def wait_started(self, timeout: float) -> bool:
        """Block until the listener is connected (or gave up); False on timeout."""
        return self._started.wait(timeout)

    def wait_answered(self, count: int, timeout: float) -> bool:
        """Block until ``count`` Stop clicks were handled (answered or ignored)."""
        with self._answered:
            return self._answered.wait_for(lambda: len(self.answers) >= count, timeout)

    def close(self, *, wait: bool = False) -> None:
        """Stop listening (slack_sdk needs about a second to wind its threads down: that
        happens in the background unless ``wait``)."""
        with self._lock:
            self._closed = True
            socket, self._socket = self._socket, None
        if socket is None:
            return
        closer = threading.Thread(target=socket.close, name="slacknb-stop-listener-close", daemon=True)
        closer.start()
        if wait:
            closer.join()

    def _start(self) -> None:
        try:
            answer = self._api.call("auth.test", urgent=False)
            if answer.ok:
                self.team_id = answer.data.get("team_id")
            self._connect()
        except Exception as exc:  # noqa: BLE001 - the button is never worth the run
            warn(f"slacknb: the Slack Stop button does not listen: {_why(exc)}", SlackMirrorWarning)
            self.close()
        finally:
            self._started.set()

    def _connect(self) -> None:
        from slack_sdk.socket_mode import SocketModeClient

        socket = SocketModeClient(app_token=self._app_token, web_client=self._api.client, logger=_log,
                                  ping_interval=self._ping_interval)
        socket.message_listeners.append(self._on_message)
        socket.socket_mode_request_listeners.append(self._on_request)
        with self._lock:
            if self._closed:
                return
            self._socket = socket
        socket.connect()
        if self._closed:  # the run ended while connecting: do not leave a session behind
            socket.close()
            return
        if socket.is_connected():
            self.listening = True
        else:
            warn("slacknb: the Slack Stop button could not connect over Socket Mode: is Socket Mode enabled "
                 "in the app, and is SLACK_APP_TOKEN an app-level token with connections:write? "
                 "Run `slacknb doctor` to check", SlackMirrorWarning)

    def _on_message(self, socket, message: dict, raw: str) -> None:
        if message.get("type") == "hello":  # Socket Mode names the app the connection is for
            self.app_id = (message.get("connection_info") or {}).get("app_id") or self.app_id

    def _on_request(self, socket, request) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        try:
            socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        except Exception:  # noqa: BLE001 - a lost ack is Slack's retry, never our crash
            pass
        click = read_click(request.payload) if request.type == "interactive" else None
        if click is None:
            return
        kind, answer = verdict(click, stream_id=self.stream_id, allowed=self.allowed, ended=self._signal.ended,
                               stopping=self._signal.requested, app_id=self.app_id, team_id=self.team_id)
        if kind == "stop":
            made = self._signal.request(StopRequest("slack", by=f"<@{click.user_id}>", user_id=click.user_id))
            if made is None:
                kind, answer = "ended", f"This run already ended ({self._signal.ended})."
        if answer and click.channel_id:
            self._api.call("chat.postEphemeral", urgent=False, channel=click.channel_id, user=click.user_id,
                           text=answer)
        with self._answered:
            self.answers.append((kind, click.user_id))
            self._answered.notify_all()


def _why(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    error = response.get("error") if response is not None and hasattr(response, "get") else None
    if error in ("invalid_auth", "not_authed", "not_allowed_token_type"):
        return (f"{error}: SLACK_APP_TOKEN must be the app-level token (xapp-..., scope "
                "connections:write) of the same app")
    return f"{error}" if error else type(exc).__name__

