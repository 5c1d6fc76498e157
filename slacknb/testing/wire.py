"""HTTP details: reading a Web API request the way slack_sdk writes it, and writing
(or refusing to write) the answer."""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl

from .context import ApiError

__all__ = [
    "HTML", "HTTPServer", "JSON", "Reply", "TEXT", "bearer_token", "parse_params", "read_body",
    "reset_connection", "send"
]

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass
class Reply:
    """An answer to send: an HTTP status, headers and a body, or a dropped connection."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    ok: bool = False
    error: str | None = None
    retry_after: int | None = None

    @classmethod
    def api(cls, payload: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None,
            retry_after: int | None = None) -> Reply:
        """A JSON answer in Slack's shape."""
        return cls(status=status, body=json.dumps(payload).encode(), headers=dict(headers or {}),
                   ok=bool(payload.get("ok")), error=payload.get("error"), retry_after=retry_after)

    @classmethod
    def dropped(cls) -> Reply:
        """No answer at all: the connection is reset."""
        return cls(status=0, drop=True, error="connection_dropped")

    @classmethod
    def edge_error(cls, status: int) -> Reply:
        """An HTML error page, as Slack's edge sends for 5xx (clients must cope with non-JSON)."""
        page = f"<html><head><title>{status}</title></head><body><h1>{status} Server Error</h1></body></html>"
        return cls(status=status, body=page.encode(), content_type=HTML, error=f"http_{status}")


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body (slack_sdk always sends a Content-Length)."""
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def bearer_token(handler: BaseHTTPRequestHandler) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    value = handler.headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Query string plus body: form-encoded, JSON or multipart, as slack_sdk may send.

    A body that cannot be read is Slack's ``invalid_json`` / ``invalid_form_data``.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError("invalid_json")
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        params.update(data)
    elif kind == "multipart/form-data":
        params.update(_multipart(body, content_type))
    else:
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ApiError("invalid_form_data")
    return params


def _multipart(body: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise ApiError("invalid_form_data")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        fields[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return fields


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Write the reply, or reset the connection if it is a dropped one."""
    if reply.drop:
        reset_connection(handler)
        return
    handler.send_response(reply.status)
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", reply.content_type)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    handler.wfile.write(reply.body)


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Close with an RST (SO_LINGER 0), the way a dying proxy or network does."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass


class HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that hands each request to ``on_request(handler)``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], on_request: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.on_request = on_request
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or went away mid-answer is normal here (delays,
        # drops); printing a traceback would only be noise in test output.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slacknb-local-slack"
    sys_version = ""
    server: HTTPServer

    def do_POST(self) -> None:
        self.server.on_request(self)

    # slack_sdk always POSTs, but Slack accepts GET too (and so do browsers poking at it).
    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        # Never log requests: they carry tokens, and tests want quiet output.
        pass
