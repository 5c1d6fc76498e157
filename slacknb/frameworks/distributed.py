"""Sharing rank 0's Slack message with the other ranks of a ChainerMN job.

* With a communicator, rank 0's message is shared at the start of training: rank 0 waits
  up to :data:`SHARE_TIMEOUT` seconds for its first post to be in Slack, then
  ``comm.bcast_obj`` hands the channel, ts and label to every rank. This is a collective
  call, so with ``comm=`` the report must be added to the trainer on EVERY rank (as
  ChainerMN's multi-node evaluator must). Without a communicator nothing is shared: the
  default label is derived from the launcher's job id, the same on every rank.
"""

from __future__ import annotations

import warnings

from slacknb.core.ranks import Rank

__all__ = ["SHARE_TIMEOUT", "share_message"]

SHARE_TIMEOUT = 10.0


def share_message(comm, rank: Rank, mirror, *, label: str, timeout: float = SHARE_TIMEOUT):
    """Collective, on every rank: rank 0's ``((channel ID, ts) or None, label)`` for all.

    Rank 0 waits up to ``timeout`` seconds for its message to be posted; a rank whose
    broadcast fails gets ``(None, label)`` and a warning, and training goes on.
    """
    payload = None
    if rank.owner:
        posted = mirror.wait_posted(timeout)
        payload = {"channel": posted[0], "ts": posted[1], "label": label} if posted else {"label": label}
    try:
        payload = comm.bcast_obj(payload, root=0)
    except Exception as exc:  # noqa: BLE001 - sharing is a nicety, never a reason to stop training
        warnings.warn(f"slacknb: could not share rank 0's Slack message with the other ranks "
                      f"({type(exc).__name__}); their alerts go to the channel", RuntimeWarning, stacklevel=2)
        return None, label
    if not isinstance(payload, dict):
        return None, label
    shared_label = payload.get("label") if isinstance(payload.get("label"), str) else label
    channel, ts = payload.get("channel"), payload.get("ts")
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return (channel, ts), shared_label
    return None, shared_label
