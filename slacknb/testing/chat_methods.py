"""chat.* and the message-reading conversations.* methods."""

from __future__ import annotations

from typing import Any

from .context import ApiError, Context, page
from .messages import Message, ts_key
from .workspace import Channel

__all__ = [
    "MAX_BLOCKS", "MAX_HEADER_TEXT", "MAX_POST_TEXT", "MAX_SECTION_TEXT", "MAX_UPDATE_TEXT", "blocks_param",
    "delete", "get_permalink", "history", "post_message", "replies", "update"
]

# chat.update's reference lists msg_too_long above 4,000 characters; chat.postMessage
# accepts up to 40,000 and truncates beyond, with a warning.
MAX_UPDATE_TEXT = 4000
MAX_POST_TEXT = 40000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150


def post_message(ctx: Context) -> dict[str, Any]:
    """chat.postMessage: the channel may be an ID, a name or "#name"."""
    channel = ctx.channel()
    ctx.check_can_post(channel)
    text = ctx.param("text", required=False) or ""
    blocks = blocks_param(ctx) or None
    if not text and not blocks:
        raise ApiError("no_text")
    warning = None
    if len(text) > MAX_POST_TEXT:
        text, warning = text[:MAX_POST_TEXT], "message_truncated"
    parent = _thread_parent(ctx, channel)
    message = Message(
        ts=ctx.store.next_ts(), channel=channel.id, text=text, user=ctx.info.user_id,
        bot_id=ctx.info.bot_id, blocks=blocks, metadata=_metadata(ctx),
        reply_broadcast=parent is not None and ctx.flag("reply_broadcast"),
    )
    ctx.store.add(message, parent=parent)
    out: dict[str, Any] = {"channel": channel.id, "ts": message.ts, "message": _echo(message)}
    if warning:
        out["warning"] = warning
        out["response_metadata"] = {"warnings": [warning]}
    return out


def update(ctx: Context) -> dict[str, Any]:
    """chat.update: the channel must be an ID (a name is channel_not_found, as on Slack)."""
    channel = ctx.channel(by_name=False)
    message = _own_message(ctx, channel, ctx.param("ts"), "cant_update_message")
    text = ctx.param("text", required=False)
    blocks = blocks_param(ctx)
    if text is None and blocks is None:
        raise ApiError("no_text")
    if text is not None and len(text) > MAX_UPDATE_TEXT:
        raise ApiError("msg_too_long")
    metadata = _metadata(ctx)
    message.text = text or ""
    # As on Slack, an update without blocks keeps the old ones; blocks=[] removes them.
    if blocks is not None:
        message.blocks = blocks or None
    if metadata is not None:
        message.metadata = metadata
    ctx.store.edited(message)
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": _echo(message)}


def delete(ctx: Context) -> dict[str, Any]:
    """chat.delete: the message stays in the server's record, marked deleted."""
    channel = ctx.channel(by_name=False)
    message = _own_message(ctx, channel, ctx.param("ts"), "cant_delete_message")
    ctx.store.deleted(message)
    return {"channel": channel.id, "ts": message.ts}


def get_permalink(ctx: Context) -> dict[str, Any]:
    """chat.getPermalink: ``<root>/archives/<channel>/p<ts without the dot>``."""
    channel = ctx.channel(by_name=False)
    message = ctx.store.get(channel.id, ctx.param("message_ts"))
    if message is None or message.deleted:
        raise ApiError("message_not_found")
    link = f"{ctx.root}/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.thread_ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def history(ctx: Context) -> dict[str, Any]:
    """conversations.history: live top-level messages, newest first, paginated."""
    channel = _readable_channel(ctx)
    messages = ctx.store.timeline(channel.id)
    oldest = ts_key(ctx.param("oldest", required=False) or "0")
    latest = ts_key(ctx.param("latest", required=False) or "9999999999.999999")
    if oldest is None or latest is None:
        raise ApiError("invalid_ts_oldest" if oldest is None else "invalid_ts_latest")
    inclusive = ctx.flag("inclusive")
    messages = [m for m in messages if _within(ts_key(m.ts), oldest, latest, inclusive)]
    messages.reverse()
    chunk, next_cursor = page(messages, ctx, default_limit=100, max_limit=999)
    include = ctx.flag("include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=include) for m in chunk],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def replies(ctx: Context) -> dict[str, Any]:
    """conversations.replies: the parent, then its live replies oldest first."""
    channel = _readable_channel(ctx)
    message = ctx.store.get(channel.id, ctx.param("ts"))
    if message is not None and message.thread_ts and message.thread_ts != message.ts:
        message = ctx.store.get(channel.id, message.thread_ts)
    if message is None or message.deleted:
        raise ApiError("thread_not_found")
    thread = [message] + [r for r in message.replies if not r.deleted]
    chunk, next_cursor = page(thread, ctx, default_limit=1000, max_limit=1000)
    include = ctx.flag("include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=include) for m in chunk],
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


def _readable_channel(ctx: Context) -> Channel:
    channel = ctx.channel(by_name=False)
    ctx.require_scope("groups:history" if channel.is_private else "channels:history")
    if ctx.info.user_id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def _within(key, oldest, latest, inclusive: bool) -> bool:
    if inclusive:
        return oldest <= key <= latest
    return oldest < key < latest


def _own_message(ctx: Context, channel: Channel, ts: str, not_own_error: str) -> Message:
    if channel.is_archived:
        raise ApiError("is_archived")
    message = ctx.store.get(channel.id, ts)
    if message is None or message.deleted:
        raise ApiError("message_not_found")
    if message.user != ctx.info.user_id:
        raise ApiError(not_own_error)
    return message


def _thread_parent(ctx: Context, channel: Channel) -> Message | None:
    thread_ts = ctx.param("thread_ts", required=False)
    if thread_ts is None:
        return None
    parent = ctx.store.get(channel.id, thread_ts)
    if parent is not None and parent.thread_ts and parent.thread_ts != parent.ts:
        # Replying to a reply lands in the same thread.
        parent = ctx.store.get(channel.id, parent.thread_ts)
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    return parent


def blocks_param(ctx: Context) -> list | None:
    """The ``blocks`` parameter checked against Block Kit's limits: None when absent,
    ``[]`` when sent empty (an update's way to remove them)."""
    blocks = ctx.structured("blocks")
    if blocks is None or blocks == []:
        return blocks
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        raise ApiError("invalid_blocks", response_metadata={"messages": ["blocks must be a list of objects with a type"]})
    if len(blocks) > MAX_BLOCKS:
        raise ApiError("invalid_blocks", response_metadata={"messages": [f"no more than {MAX_BLOCKS} items allowed"]})
    for i, block in enumerate(blocks):
        limit = {"section": MAX_SECTION_TEXT, "header": MAX_HEADER_TEXT}.get(block["type"])
        text = block.get("text")
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            raise ApiError("invalid_blocks", response_metadata={
                "messages": [f"must be less than {limit + 1} characters [json-pointer:/blocks/{i}/text]"]})
    return blocks


def _metadata(ctx: Context) -> dict | None:
    metadata = ctx.structured("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload") or {}}


def _echo(message: Message) -> dict[str, Any]:
    out = message.to_api(include_metadata=True)
    out.pop("reply_count", None)
    out.pop("latest_reply", None)
    return out
