"""The two-step external upload that slack_sdk's ``files_upload_v2`` drives.

1. files.getUploadURLExternal hands out ``<root>/upload/<file_id>``;
2. the client POSTs the raw bytes there (handled by the HTTP layer: :func:`store_bytes`);
3. files.completeUploadExternal names the files and shares them into a channel.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from .context import ApiError, Context
from .messages import Message

__all__ = ["complete_upload", "get_upload_url", "store_bytes"]


def get_upload_url(ctx: Context) -> dict[str, Any]:
    """files.getUploadURLExternal(filename, length)."""
    filename = ctx.param("filename")
    length = ctx.integer("length", -1)
    if length < 0:
        raise ApiError("invalid_arguments", response_metadata={"messages": ["missing length"]})
    file_id = ctx.new_file_id()
    ctx.uploads[file_id] = {
        "filename": filename, "title": None, "length": length, "bytes": None,
        "channel_id": None, "thread_ts": None, "completed": False,
    }
    return {"upload_url": f"{ctx.root}/upload/{file_id}", "file_id": file_id}


def store_bytes(uploads: dict[str, dict], file_id: str, data: bytes) -> bool:
    """Keep the bytes POSTed to an upload URL; False if the URL was never handed out."""
    entry = uploads.get(file_id)
    if entry is None or entry["completed"]:
        return False
    entry["bytes"] = data
    return True


def complete_upload(ctx: Context) -> dict[str, Any]:
    """files.completeUploadExternal(files=[{"id", "title"}], channel_id?, thread_ts?, initial_comment?)."""
    files = ctx.structured("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise ApiError("invalid_arguments", response_metadata={"messages": ["files must be a list of {id, title}"]})
    for f in files:
        entry = ctx.uploads.get(f["id"])
        if entry is None or entry["bytes"] is None or entry["completed"]:
            raise ApiError("file_not_found")
    channel = parent = None
    # slack_sdk sends channel_id; older callers send channels (one ID here).
    param = "channel_id" if ctx.params.get("channel_id") else "channels"
    if ctx.params.get(param):
        channel = ctx.channel(by_name=False, param=param)
        ctx.check_can_post(channel)
        thread_ts = ctx.param("thread_ts", required=False)
        if thread_ts:
            parent = ctx.store.get(channel.id, thread_ts)
            if parent is None or parent.deleted:
                raise ApiError("thread_not_found")
    described = []
    for f in files:
        entry = ctx.uploads[f["id"]]
        entry.update(title=f.get("title") or entry["filename"], completed=True,
                     channel_id=channel.id if channel else None, thread_ts=parent.ts if parent else None)
        described.append(_file_info(ctx, f["id"], entry))
    if channel is not None:
        message = Message(ts=ctx.store.next_ts(), channel=channel.id,
                          text=ctx.param("initial_comment", required=False) or "",
                          user=ctx.info.user_id, bot_id=ctx.info.bot_id, files=described)
        ctx.store.add(message, parent=parent)
    return {"files": described}


def _file_info(ctx: Context, file_id: str, entry: dict) -> dict[str, Any]:
    return {
        "id": file_id,
        "name": entry["filename"],
        "title": entry["title"],
        "size": len(entry["bytes"]),
        "mimetype": mimetypes.guess_type(entry["filename"])[0] or "application/octet-stream",
        "user": ctx.info.user_id,
        "permalink": f"{ctx.root}/files/{ctx.info.user_id}/{file_id}/{entry['filename']}",
        "channels": [entry["channel_id"]] if entry["channel_id"] else [],
    }
