"""The Stop button's ear: listen for clicks over Socket Mode while a run trains.

slack_sdk's built-in ``SocketModeClient`` (app-level token ``xapp-...`` from
``SLACK_APP_TOKEN`` only) is opened when the run starts and closed when it ends; it
reconnects on its own after a drop or a ``disconnect`` envelope. Every envelope is
acknowledged at once (Slack wants that within 3 seconds). A click counts only when its
action carries this run's stream id (a button on an old message never stops a new run)
and the clicking user is allowed; anyone else gets an ephemeral answer, and so does a
click that comes after the run ended. What a click means is decided by the pure
:func:`verdict`; the listener only does the I/O and writes into the run's
:class:`~slacknb.core.stop.StopSignal`.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

from slacknb.core.stop import StopRequest, StopSignal
from slacknb.slack.blocks import STOP_ACTION_ID
from slacknb.slack.config import resolve_config
from slacknb.slack.mentions import Mention, MentionResolver, parse_mentions
from slacknb.slack.mirror import SlackMirrorWarning

__all__ = ["APP_TOKEN_ENV_VAR", "Click", "StopListener", "allowed_people", "app_token_from_env", "read_click",
           "stop_listener", "verdict"]

APP_TOKEN_ENV_VAR = "SLACK_APP_TOKEN"
# How long resolving the allowed people (names, e-mails) may take before listening starts.
RESOLVE_SECONDS = 30.0

# slack_sdk logs every request's URL, body and headers at DEBUG when its logger's own
# level allows it (3.48 redacts the Authorization header and keeps the token out of the
# body). The app token must not depend on that: this logger never allows DEBUG. Its
# records still reach handlers the user configured, and never stderr by default.
_log = logging.getLogger("slacknb.slack.buttons")
_log.setLevel(logging.INFO)
_log.addHandler(logging.NullHandler())


def app_token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The app-level token from ``SLACK_APP_TOKEN`` (never from an argument: a magic
    line is saved in the notebook), or None."""
    value = (os.environ if environ is None else environ).get(APP_TOKEN_ENV_VAR, "").strip()
    return value or None


def allowed_people(stop_allowed, finish_mentions) -> tuple[Mention, ...]:
    """Who may press Stop: ``stop_allowed``, else the people among ``finish_mentions``.

    Raises ValueError when nobody would be allowed, or when ``stop_allowed`` names
    something that is not a person (a user group, @here): the fix is in the message.
    """
    fix = ("name who may stop the run: stop_allowed=['@alice', 'bob@example.com', 'U0123'] "
           "(user IDs, @names or e-mails), or put people in finish_mentions")
    if stop_allowed is not None:
        mentions = parse_mentions(stop_allowed)
        others = [m.raw for m in mentions if m.kind in ("group", "special")]
        if others:
            raise ValueError(f"stop_allowed takes people, not {', '.join(others)}: {fix}")
    else:
        mentions = tuple(m for m in parse_mentions(finish_mentions) if m.kind not in ("group", "special"))
    if not mentions:
        raise ValueError(f"stop_button=True, but nobody may press it: {fix}")
    return mentions


@dataclass(frozen=True)
class Click:
    """A press of a Stop button: who, where, and the stream id the button carries."""

    user_id: str
    channel_id: str
    stream_id: str
    message_ts: str = ""


def read_click(payload: Mapping) -> Click | None:
    """The Stop click in a ``block_actions`` payload, or None when it holds none."""
    if not isinstance(payload, Mapping) or payload.get("type") != "block_actions":
        return None
    for action in payload.get("actions") or ():
        if isinstance(action, Mapping) and action.get("action_id") == STOP_ACTION_ID:
            user = payload.get("user") or {}
            container = payload.get("container") or {}
            channel = container.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
            return Click(str(user.get("id") or ""), str(channel), str(action.get("value") or ""),
                         str(container.get("message_ts") or ""))
    return None


def verdict(click: Click, *, stream_id: str, allowed: Sequence[str], ended: str | None,
            stopping: StopRequest | None) -> tuple[str, str]:
    """What a click means: ``(kind, answer)``. ``kind`` is "ignore" (another run's
    button), "ended", "refuse", "stopping" (someone already did) or "stop"; ``answer``
    is the ephemeral text for the clicking user ("" for none)."""
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


def stop_listener(*, token: str | None, base_url: str | None, allowed: Sequence[Mention], signal: StopSignal,
                  environ: Mapping[str, str] | None = None, ping_interval: float = 5.0) -> StopListener | None:
    """A listener for a run's Stop button, or None (with one warning naming what to set)
    when ``SLACK_APP_TOKEN`` is not set. ``token`` and ``base_url`` are the bot's, as the
    mirror resolves them (argument, else environment)."""
    app_token = app_token_from_env(environ)
    if app_token is None:
        _warn(f"stop_button=True, but {APP_TOKEN_ENV_VAR} is not set: set it to the Slack app's "
              "app-level token (xapp-..., scope connections:write, Socket Mode and Interactivity "
              "enabled). The run goes on without a Stop button in Slack.", stacklevel=5)
        return None
    from slack_sdk import WebClient

    config = resolve_config(token, None, base_url=base_url, environ=environ)
    client = WebClient(token=config.token, base_url=config.base_url, timeout=10, retry_handlers=[], logger=_log)
    return StopListener(app_token=app_token, client=client, stream_id=secrets.token_hex(8), allowed=allowed,
                        signal=signal, ping_interval=ping_interval)


class StopListener:
    """Listens for Stop clicks on one run's message; writes accepted ones into ``signal``.

    ``client`` is a slack_sdk ``WebClient`` with the bot token: it resolves the allowed
    people and answers with ``chat.postEphemeral``; the app token only opens the
    WebSocket. ``ping_interval`` is how often the connection is checked (a dropped one is
    replaced within about that long).
    """

    def __init__(self, *, app_token: str, client, stream_id: str, allowed: Sequence[Mention],
                 signal: StopSignal, ping_interval: float = 5.0) -> None:
        self._app_token = app_token
        self._client = client
        self.stream_id = stream_id
        self._mentions = tuple(allowed)
        self._signal = signal
        self._ping_interval = ping_interval
        self.allowed: tuple[str, ...] = ()
        self.listening = False
        """True once connected (the button is worth showing); a drop is reconnected."""
        self.answers: list[tuple[str, str]] = []  # (kind, user ID) of every Stop click seen
        self._answered = threading.Condition()
        self._socket = None
        self._lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()
        self._started = threading.Event()

    def __repr__(self) -> str:
        # The app token is never part of it.
        state = "closed" if self._closed else ("listening" if self._socket is not None else "starting")
        return f"<StopListener {state} allowed={list(self.allowed)!r}>"

    def start(self) -> None:
        """Resolve the allowed people and connect, on a thread of its own: training
        starts at once."""
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
        self._closing.set()
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
            self.allowed = self._resolve()
            self._connect()
        except Exception as exc:  # noqa: BLE001 - the button is never worth the run
            _warn(f"the Slack Stop button does not listen: {_why(exc)}")
            self.close()
        finally:
            self._started.set()

    def _resolve(self) -> tuple[str, ...]:
        # A Retry-After is waited out, unless the run ends meanwhile.
        resolver = MentionResolver(self._client, wait=lambda seconds: not self._closing.wait(seconds))
        resolution = resolver.resolve(self._mentions, timeout=RESOLVE_SECONDS)
        ids = tuple(dict.fromkeys(m[2:-1] for m in resolution.markup.split() if m.startswith("<@")))
        if resolution.unresolved:
            why = f" ({resolution.problem})" if resolution.problem else ""
            _warn(f"Stop button: nobody found for {', '.join(resolution.unresolved)}{why}; "
                  f"they cannot stop the run")
        return ids

    def _connect(self) -> None:
        from slack_sdk.socket_mode import SocketModeClient

        socket = SocketModeClient(app_token=self._app_token, web_client=self._client, logger=_log,
                                  ping_interval=self._ping_interval)
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
            _warn("the Slack Stop button could not connect over Socket Mode: is Socket Mode enabled "
                  "in the app, and is SLACK_APP_TOKEN an app-level token with connections:write? "
                  "Run `slacknb doctor` to check")

    def _on_request(self, socket, request) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        try:
            socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        except Exception:  # noqa: BLE001 - a lost ack is Slack's retry, never our crash
            pass
        click = read_click(request.payload) if request.type == "interactive" else None
        if click is None:
            return
        kind, answer = verdict(click, stream_id=self.stream_id, allowed=self.allowed,
                               ended=self._signal.ended, stopping=self._signal.requested)
        if kind == "stop":
            made = self._signal.request(StopRequest("slack", by=f"<@{click.user_id}>", user_id=click.user_id))
            if made is None:
                kind, answer = "ended", f"This run already ended ({self._signal.ended})."
        if answer and click.channel_id:
            try:
                self._client.chat_postEphemeral(channel=click.channel_id, user=click.user_id, text=answer)
            except Exception as exc:  # noqa: BLE001 - an unanswered click changes nothing
                _log.warning("chat.postEphemeral failed: %s", type(exc).__name__)
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


def _warn(text: str, stacklevel: int = 2) -> None:
    warnings.warn(f"slacknb: {text}", SlackMirrorWarning, stacklevel=stacklevel)
