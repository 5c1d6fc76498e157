"""The Web API methods the local server speaks, the scope each needs, and token checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import chat_methods as chat
from . import directory_methods as directory
from . import file_methods as files
from .context import ApiError, Context
from .workspace import TokenInfo, Workspace


@dataclass(frozen=True)
class Method:
    """One method: its implementation and the scope Slack demands before running it.

    ``scope`` None means none up front (conversations.history/replies pick theirs by
    channel type, public or private, once they know the channel).
    """

    run: Callable[[Context], dict[str, Any]]
    scope: str | None


METHODS: dict[str, Method] = {
    "auth.test": Method(directory.auth_test, None),
    "chat.postMessage": Method(chat.post_message, "chat:write"),
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


def authenticate(workspace: Workspace, token: str | None) -> TokenInfo:
    """The token's info, or the error Slack gives for a missing or unusable token."""
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
    return info
