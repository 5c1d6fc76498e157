"""Who and where: auth.test, conversations.join/info, users.list, users.lookupByEmail."""

from __future__ import annotations

from typing import Any

from .context import ApiError, Context, page
from .workspace import Channel, User

__all__ = ["auth_test", "info", "join", "lookup_by_email", "users_list"]


def auth_test(ctx: Context) -> dict[str, Any]:
    """auth.test: the team and the token's user."""
    user = ctx.workspace.find_user(ctx.info.user_id)
    return {
        "url": f"{ctx.root}/",
        "team": ctx.workspace.team,
        "user": user.name if user else ctx.info.user_id,
        "team_id": ctx.workspace.team_id,
        "user_id": ctx.info.user_id,
        "bot_id": ctx.info.bot_id,
        "is_enterprise_install": False,
    }


def join(ctx: Context) -> dict[str, Any]:
    """conversations.join: public channels only."""
    channel = ctx.workspace.find_channel(ctx.param("channel"), by_name=False)
    if channel is None:
        raise ApiError("channel_not_found")
    if channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    out: dict[str, Any] = {}
    if ctx.info.user_id in channel.members:
        out = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    channel.members.add(ctx.info.user_id)
    out["channel"] = _channel_info(ctx, channel)
    return out


def info(ctx: Context) -> dict[str, Any]:
    """conversations.info: unknown and invisible private channels are channel_not_found."""
    channel = ctx.channel(by_name=False)
    if channel.is_private:
        ctx.require_scope("groups:read")
    return {"channel": _channel_info(ctx, channel)}


def users_list(ctx: Context) -> dict[str, Any]:
    """users.list: up to ``limit`` members (100 when 0/absent), with a next_cursor."""
    chunk, next_cursor = page(ctx.workspace.users, ctx, default_limit=100, max_limit=1000)
    return {
        "members": [_user_info(ctx, u) for u in chunk],
        "cache_ts": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def lookup_by_email(ctx: Context) -> dict[str, Any]:
    """users.lookupByEmail: case-insensitive, users_not_found if nobody has it."""
    email = ctx.param("email").strip().lower()
    for user in ctx.workspace.users:
        if user.email and user.email.lower() == email:
            return {"user": _user_info(ctx, user)}
    raise ApiError("users_not_found")


def _channel_info(ctx: Context, channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_private": channel.is_private,
        "is_archived": channel.is_archived,
        "is_member": ctx.info.user_id in channel.members,
        "num_members": len(channel.members),
    }


def _user_info(ctx: Context, user: User) -> dict[str, Any]:
    profile: dict[str, Any] = {"display_name": user.display_name, "real_name": user.real_name}
    # Slack shows e-mail addresses only to tokens with users:read.email.
    if user.email and "users:read.email" in ctx.info.scopes:
        profile["email"] = user.email
    return {
        "id": user.id,
        "team_id": ctx.workspace.team_id,
        "name": user.name,
        "real_name": user.real_name,
        "deleted": user.deleted,
        "is_bot": user.is_bot,
        "profile": profile,
    }
