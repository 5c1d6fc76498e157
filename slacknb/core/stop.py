"""A graceful stop: one mailbox that the Stop buttons (Slack's and the notebook
widget's) write into and the training loop reads at each iteration boundary.

The first request wins; once the run has ended, requests are refused and the
ending status is what a late click is told.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["StopRequest", "StopSignal"]


@dataclass(frozen=True)
class StopRequest:
    """Who asked a run to stop: ``by`` is Slack markup (``<@U0ALICE>``) for a Slack
    click, "" for the notebook's button; ``via`` is "slack" or "notebook"."""

    via: str
    by: str = ""
    user_id: str = ""

    @property
    def description(self) -> str:
        """What follows the status word: "by <@U0ALICE>" or "from the notebook"."""
        return f"by {self.by}" if self.by else "from the notebook"


class StopSignal:
    """Thread-safe: buttons call :meth:`request` from their own threads, the training
    loop reads :attr:`requested`, and the run calls :meth:`end` when it is over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request: StopRequest | None = None
        self._ended: str | None = None
        self._made = threading.Event()

    def request(self, request: StopRequest) -> StopRequest | None:
        """Ask the run to stop. Returns the request in force (an earlier one wins),
        or None when the run has already ended."""
        with self._lock:
            if self._ended is not None:
                return None
            if self._request is None:
                self._request = request
                self._made.set()
            return self._request

    @property
    def requested(self) -> StopRequest | None:
        """The stop request, once one was made."""
        return self._request

    def wait(self, timeout: float) -> StopRequest | None:
        """Block until a stop is requested (at most ``timeout`` seconds); the request or None."""
        self._made.wait(timeout)
        return self._request

    def end(self, status: str) -> None:
        """The run is over with ``status``; later requests are refused."""
        with self._lock:
            if self._ended is None:
                self._ended = status

    @property
    def ended(self) -> str | None:
        """The status the run ended with, or None while it runs."""
        return self._ended
