"""What every Web API method implementation gets, and the checks they share.

A method is a function ``(ctx) -> dict`` run under the server's lock; it answers
with the fields of an ``ok`` response or raises :class:`ApiError`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Callable

from .messages import MessageStore
from .workspace import Channel, TokenInfo, Workspace

__all__ = ["ApiError", "Context", "decode_cursor", "encode_cursor", "missing_scope", "page"]


class ApiError(Exception):
    """A Slack error answer: ``{"ok": false, "error": error, **extra}`` (HTTP 200)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Context:
    """One authenticated call: the live state plus the caller's params and token info."""

    workspace: Workspace
    store: MessageStore
    uploads: dict[str, dict]
    root: str
    info: TokenInfo
    params: dict[str, Any]
    new_file_id: Callable[[], str]
    #: Mints a Socket Mode ticket and answers the WebSocket URL that redeems it.
    open_socket: Callable[[], str]

    def param(self, name: str, *, required: bool = True) -> str | None:
        """A string parameter; a missing required one is Slack's ``invalid_arguments``."""
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise ApiError("invalid_arguments", response_metadata={"messages": [f"missing {name}"]})
            return None
        return str(value)

    def flag(self, name: str) -> bool:
        """A boolean parameter as Slack reads it ("1"/"true"/True)."""
        value = self.params.get(name)
        return value is True or str(value).lower() in ("1", "true")

    def integer(self, name: str, default: int) -> int:
        """An integer parameter, ``invalid_arguments`` if it is not one."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments", response_metadata={"messages": [f"{name} must be an integer"]})

    def structured(self, name: str) -> Any:
        """A list/object parameter: JSON bodies carry it as is, form bodies as a JSON string."""
        value = self.params.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError("invalid_arguments", response_metadata={"messages": [f"{name} is not valid JSON"]})
        return value

    def require_scope(self, scope: str) -> None:
        """Raise ``missing_scope`` naming the scope, as Slack does."""
        if scope not in self.info.scopes:
            raise missing_scope(self.info, scope)

    def channel(self, *, by_name: bool = True, param: str = "channel") -> Channel:
        """The channel a parameter names, if this token can see it.

        Private channels the bot is not in look like they do not exist, as on Slack.
        """
        ref = self.param(param)
        channel = self.workspace.find_channel(ref, by_name=by_name)
        if channel is None or not self.visible(channel):
            raise ApiError("channel_not_found")
        return channel

    def visible(self, channel: Channel) -> bool:
        """Whether this token's user can see the channel at all."""
        return not channel.is_private or self.info.user_id in channel.members

    def check_can_post(self, channel: Channel) -> None:
        """Slack's checks before a message lands in a channel."""
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.info.user_id not in channel.members and "chat:write.public" not in self.info.scopes:
            raise ApiError("not_in_channel")


def missing_scope(info: TokenInfo, scope: str) -> ApiError:
    """Slack's ``missing_scope`` error, with ``needed`` and ``provided``."""
    return ApiError("missing_scope", needed=scope, provided=",".join(info.scopes))


def encode_cursor(offset: int) -> str:
    """An opaque-looking pagination cursor, like Slack's base64 ones."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset a cursor stands for; ``invalid_cursor`` if it is not one of ours."""
    if not cursor:
        return 0
    try:
        kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        offset = int(number)
    except ValueError:
        raise ApiError("invalid_cursor")
    if kind != "offset" or offset < 0:
        raise ApiError("invalid_cursor")
    return offset


def page(items: list, ctx: Context, *, default_limit: int, max_limit: int) -> tuple[list, str]:
    """One page of ``items`` for the ``limit``/``cursor`` params, and the next cursor ("" at the end)."""
    limit = ctx.integer("limit", 0)
    # Slack treats 0 (or nothing) as "server's choice" and caps large limits.
    limit = default_limit if limit <= 0 else min(limit, max_limit)
    offset = decode_cursor(ctx.param("cursor", required=False))
    end = offset + limit
    return items[offset:end], encode_cursor(end) if end < len(items) else ""
