"""``from slacknb.ppe import SlackReport``: the pytorch-pfn-extras extension (needs the ``ppe`` extra)."""

from .frameworks.ppe import SlackReport, request_stop

__all__ = ["SlackReport", "request_stop"]
