"""What an interactive app needs: apps.connections.open (Socket Mode) and chat.postEphemeral."""

from __future__ import annotations

from typing import Any

from .chat_methods import blocks_param
from .context import ApiError, Context
from .messages import Ephemeral

__all__ = ["connections_open", "post_ephemeral"]


def connections_open(ctx: Context) -> dict[str, Any]:
    """apps.connections.open: a one-use WebSocket URL for an app-level token."""
    return {"url": ctx.open_socket()}


def post_ephemeral(ctx: Context) -> dict[str, Any]:
    """chat.postEphemeral: a message only ``user`` sees; they must be in the channel."""
    channel = ctx.channel()
    ctx.check_can_post(channel)
    user_id = ctx.param("user")
    user = ctx.workspace.find_user(user_id)
    if user is None or user.deleted:
        raise ApiError("user_not_found")
    if user_id not in channel.members:
        raise ApiError("user_not_in_channel")
    text = ctx.param("text", required=False) or ""
    blocks = blocks_param(ctx) or None
    if not text and not blocks:
        raise ApiError("no_text")
    ts = ctx.store.next_ts()
    ctx.store.add_ephemeral(Ephemeral(
        ts=ts, channel=channel.id, user=user_id, text=text, sender=ctx.info.user_id, blocks=blocks,
        thread_ts=ctx.param("thread_ts", required=False)))
    return {"message_ts": ts}
