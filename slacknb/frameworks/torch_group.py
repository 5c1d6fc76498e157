"""torch.distributed's default process group, seen as a communicator.

:func:`slacknb.distributed.share_message` hands rank 0's message to the other
ranks through ``comm.bcast_obj`` (ChainerMN's name). :class:`TorchGroup` gives
torch.distributed's default group that method, on
``torch.distributed.broadcast_object_list``, so a torchrun job shares its message
the way a ChainerMN job does. Nothing imports torch unless it is imported already.
"""

from __future__ import annotations

import sys

__all__ = ["TorchGroup", "torch_group"]


class TorchGroup:
    """``rank``, ``size`` and ``bcast_obj`` of torch.distributed's default process group."""

    def __init__(self, dist):
        self._dist = dist
        self.rank = dist.get_rank()
        self.size = dist.get_world_size()

    def bcast_obj(self, obj, root: int = 0):
        """Collective: every rank gets rank ``root``'s ``obj`` (pickled by torch)."""
        box = [obj]
        self._dist.broadcast_object_list(box, src=root)
        return box[0]


def torch_group() -> TorchGroup | None:
    """The default process group when one is initialised in this process, else None."""
    if "torch" not in sys.modules:
        return None
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return TorchGroup(dist)
    except Exception:  # noqa: BLE001 - no group, or a broken one: the launcher's variables decide
        return None
    return None
