"""Socket Mode for the local server.

apps.connections.open hands out one-use tickets; a WebSocket server (the ``websockets``
library's threading implementation) redeems them, greets with a ``hello`` envelope,
delivers envelopes (a pressed button is an ``interactive`` one carrying a
``block_actions`` payload) and records every acknowledgement a client sends back.
"""

from __future__ import annotations

import copy
import json
import logging
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.sync.server import Server, ServerConnection, serve

from .messages import Message, MessageStore
from .workspace import APP_ID, User, Workspace

if TYPE_CHECKING:
    from .server import SlackServer

__all__ = ["Ack", "SocketHub", "SocketModeSide", "block_actions", "find_button", "press_envelope"]

# Connection problems of the clients under test are expected here (drops, refused
# tickets): keep websockets' own log lines out of test output.
_log = logging.getLogger("slacknb.testing.socket_mode")
_log.addHandler(logging.NullHandler())
_log.propagate = False


@dataclass(frozen=True)
class Ack:
    """One acknowledgement a client sent: ``{"envelope_id": ..., "payload": ...}``;
    ``at`` is ``time.monotonic()`` when it arrived."""

    envelope_id: str
    payload: dict | None
    at: float


class SocketHub:
    """The WebSocket side of one :class:`SlackServer`, started on first use.

    Its state is read and changed under the server's lock; waits go through the
    server's condition, so ``server.wait_for`` sees connections and acks arrive.
    """

    def __init__(self, server: SlackServer) -> None:
        self._server = server
        self._ws: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self.open: list[ServerConnection] = []
        self.connects = 0
        self.envelopes: list[dict] = []
        self.acks: list[Ack] = []

    def open_url(self) -> str:
        """A new one-use ``ws://`` URL (the server's lock is held)."""
        if self._ws is None:
            host = self._server._address[0]
            self._ws = serve(self._handle, host, 0, compression=None, process_request=self._admit, logger=_log)
            self._thread = threading.Thread(target=self._ws.serve_forever, name="slacknb-local-socket-mode",
                                            daemon=True)
            self._thread.start()
        host, port = self._ws.socket.getsockname()[:2]
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"ws://{host}:{port}/link/?ticket={ticket}&app_id={APP_ID}"

    def deliver(self, envelope: dict) -> None:
        """Send an envelope to the newest open connection, as Slack picks one of an app's."""
        with self._server.lock:
            candidates = [c for c in reversed(self.open) if c.protocol.state is State.OPEN]
            self.envelopes.append(envelope)
        for connection in candidates:
            try:
                connection.send(json.dumps(envelope))
                return
            except ConnectionClosed:
                continue
        raise RuntimeError("no Socket Mode connection is open: connect a SocketModeClient "
                           "(app_token=server.app_token) first")

    def disconnect(self, reason: str) -> int:
        """Send a ``disconnect`` envelope to every open connection (the client should
        open a new one); returns how many got it."""
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "local"}})
        sent = 0
        for connection in self._snapshot():
            try:
                connection.send(message)
                sent += 1
            except ConnectionClosed:
                pass
        return sent

    def drop(self) -> int:
        """Reset every open connection (TCP RST, no closing handshake), the way a lost
        network does; returns how many were dropped."""
        dropped = self._snapshot()
        for connection in dropped:
            try:
                # Linger 0: closing sends RST, not FIN.
                connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.socket.close()
            except OSError:
                pass
            connection.close_socket()
        return len(dropped)

    def stop(self) -> None:
        """Drop every connection and stop listening."""
        ws, self._ws = self._ws, None
        if ws is None:
            return
        self.drop()
        ws.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the connection side ------------------------------------------------------

    def _snapshot(self) -> list[ServerConnection]:
        with self._server.lock:
            return list(self.open)

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0]
        with self._server.lock:
            if self._server.down:
                return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "down\n")
            if ticket not in self._tickets:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
            self._tickets.discard(ticket)
        return None

    def _handle(self, connection: ServerConnection) -> None:
        with self._server._changed:
            self.open.append(connection)
            self.connects += 1
            hello = {"type": "hello", "num_connections": len(self.open),
                     "debug_info": {"host": "local", "approximate_connection_time": 3600},
                     "connection_info": {"app_id": APP_ID}}
            self._server._changed.notify_all()
        try:
            connection.send(json.dumps(hello))
            for raw in connection:
                self._receive(raw)
        except ConnectionClosed:
            pass
        except Exception as e:  # a bug here, not a Slack behaviour: keep it visible to tests
            self._server.errors.append(f"socket mode: {type(e).__name__}: {e}")
        finally:
            with self._server._changed:
                if connection in self.open:
                    self.open.remove(connection)
                self._server._changed.notify_all()

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return  # Slack ignores what is not JSON
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            return
        with self._server._changed:
            self.acks.append(Ack(message["envelope_id"], message.get("payload"), time.monotonic()))
            self._server._changed.notify_all()


class SocketModeSide:
    """:class:`~slacknb.testing.SlackServer`'s Socket Mode methods (it holds ``lock``,
    ``workspace``, ``_store`` and ``_sockets``, a :class:`SocketHub`)."""

    def press(self, channel: str, ts: str, action_id: str | None = None, *, value: str | None = None,
              user: str = "U0ALICE", app_id: str | None = None, team_id: str | None = None) -> str:
        """Press a button of a message as ``user`` (an ID): the app's newest Socket Mode
        connection gets an ``interactive`` envelope with a ``block_actions`` payload.

        The button is the one with this ``action_id`` and/or ``value`` (the first one
        when neither is given). ``app_id`` and ``team_id`` make the payload claim another
        app or workspace (what a forged or misrouted click would carry). Returns the
        envelope's ID, to look for in :attr:`acks`. ValueError when there is no such message,
        button or user; RuntimeError when no Socket Mode client is connected.
        """
        with self.lock:
            envelope = press_envelope(self.workspace, self._store, channel, ts, action_id, value, user)
        payload = envelope["payload"]
        if app_id is not None:
            payload["api_app_id"] = app_id
        if team_id is not None:
            payload["team"]["id"] = payload["user"]["team_id"] = team_id
        self._sockets.deliver(envelope)
        return envelope["envelope_id"]

    def disconnect_sockets(self, reason: str = "refresh_requested") -> int:
        """Send Slack's ``disconnect`` envelope to every Socket Mode connection (a client
        should open a new one); returns how many connections got it."""
        return self._sockets.disconnect(reason)

    def drop_sockets(self) -> int:
        """Reset every Socket Mode connection without a word, like a lost network;
        returns how many were dropped."""
        return self._sockets.drop()

    @property
    def socket_connections(self) -> int:
        """Socket Mode connections open now."""
        with self.lock:
            return len(self._sockets.open)

    @property
    def socket_connects(self) -> int:
        """Socket Mode connections ever opened (a reconnect adds one)."""
        with self.lock:
            return self._sockets.connects

    @property
    def envelopes(self) -> list[dict]:
        """Envelopes delivered over Socket Mode (button presses), oldest first (copies)."""
        with self.lock:
            return copy.deepcopy(self._sockets.envelopes)

    @property
    def acks(self) -> list[Ack]:
        """Acknowledgements received over Socket Mode, in arrival order."""
        with self.lock:
            return list(self._sockets.acks)


def find_button(message: Message, action_id: str | None = None, value: str | None = None) -> tuple[str, dict]:
    """``(block_id, element)`` of the message's button with this action_id and/or value
    (the first button when neither is given); ValueError when there is none."""
    for i, block in enumerate(message.blocks or []):
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements:
            if not isinstance(element, dict) or element.get("type") != "button":
                continue
            if action_id is not None and element.get("action_id") != action_id:
                continue
            if value is not None and element.get("value") != value:
                continue
            return str(block.get("block_id") or f"b{i}"), element
    wanted = " ".join(f"{k}={v!r}" for k, v in (("action_id", action_id), ("value", value)) if v is not None)
    raise ValueError(f"message {message.ts} in {message.channel} has no button {wanted}".rstrip())


def press_envelope(workspace: Workspace, store: MessageStore, channel: str, ts: str, action_id: str | None,
                   value: str | None, user: str) -> dict:
    """The envelope for ``user`` pressing a button of message ``ts`` in ``channel`` (an ID
    or a name); ValueError naming what is missing. Called under the server's lock."""
    ref = workspace.find_channel(channel)
    message = store.get(ref.id, ts) if ref is not None else None
    if message is None or message.deleted:
        raise ValueError(f"no message {ts} in {channel}")
    presser = workspace.find_user(user)
    if presser is None:
        raise ValueError(f"no user {user} in the workspace")
    block_id, button = find_button(message, action_id, value)
    return block_actions(message, block_id, button, presser, team_id=workspace.team_id, team=workspace.team,
                         channel_name=ref.name)


def block_actions(message: Message, block_id: str, button: dict, user: User, *, team_id: str, team: str,
                  channel_name: str) -> dict[str, Any]:
    """The ``interactive`` envelope Slack sends when ``user`` presses ``button``."""
    action = {"type": "button", "action_id": button.get("action_id"), "block_id": block_id,
              "text": button.get("text"), "value": button.get("value"), "action_ts": f"{time.time():.6f}"}
    if "style" in button:
        action["style"] = button["style"]
    payload = {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team_id},
        "api_app_id": APP_ID,
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                      "is_ephemeral": False},
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
        "team": {"id": team_id, "domain": team},
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": channel_name},
        "message": message.to_api(),
        "state": {"values": {}},
        "actions": [action],
    }
    return {"envelope_id": str(uuid.uuid4()), "payload": payload, "type": "interactive",
            "accepts_response_payload": False}
