"""The Web API methods the local server speaks, the scope each needs, and token checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import app_methods as apps
from . import chat_methods as chat
from . import directory_methods as directory
from . import file_methods as files
from .context import ApiError, Context
from .workspace import TokenInfo, Workspace

__all__ = ["METHODS", "Method", "authenticate"]


@dataclass(frozen=True)
class Method:
    """One method: its implementation and the scope Slack demands before running it.

    ``scope`` None means none up front (conversations.history/replies pick theirs by
    channel type, public or private, once they know the channel). ``token_kind`` is the
    kind of token the method takes ("bot" or "app"; None: either).
    """

    run: Callable[[Context], dict[str, Any]]
    scope: str | None
    token_kind: str | None = "bot"


METHODS: dict[str, Method] = {
    "auth.test": Method(directory.auth_test, None, token_kind=None),
    "apps.connections.open": Method(apps.connections_open, "connections:write", token_kind="app"),
    "chat.postMessage": Method(chat.post_message, "chat:write"),
    "chat.postEphemeral": Method(apps.post_ephemeral, "chat:write"),
    "chat.update": Method(chat.update, "chat:write"),
    "chat.delete": Method(chat.delete, "chat:write"),
    "chat.getPermalink": Method(chat.get_permalink, "chat:write"),
    "conversations.join": Method(directory.join, "channels:join"),
    "conversations.info": Method(directory.info, "channels:read"),
    "conversations.history": Method(chat.history, None),
    "conversations.replies": Method(chat.replies, None),
    "users.list": Method(directory.users_list, "users:read"),
    "users.lookupByEmail": Method(directory.lookup_by_email, "users:read.email"),
    "files.getUploadURLExternal": Method(files.get_upload_url, "files:write"),
    "files.completeUploadExternal": Method(files.complete_upload, "files:write"),
}


def authenticate(workspace: Workspace, token: str | None, kind: str | None = None) -> TokenInfo:
    """The token's info, or the error Slack gives for a missing or unusable token (or
    one of the wrong kind: a bot token for Socket Mode, an app token for the Web API)."""
    if not token:
        raise ApiError("not_authed")
    info = workspace.tokens.get(token)
    if info is None:
        raise ApiError("invalid_auth")
    if info.revoked:
        raise ApiError("token_revoked")
    if info.expired:
        raise ApiError("token_expired")
    if info.inactive:
        raise ApiError("account_inactive")
    if kind is not None and info.kind != kind:
        raise ApiError("not_allowed_token_type")
    return info
