"""Helpers for the Slack mirror's tests."""

from __future__ import annotations

import threading
import time

from slacknb.slack.mirror import MirrorState, SlackMirror


class States:
    """Collects the mirror's states and lets a test wait for one, without sleeping."""

    def __init__(self) -> None:
        self.seen: list[MirrorState] = []
        self._changed = threading.Condition()

    def __call__(self, state: MirrorState) -> None:
        with self._changed:
            self.seen.append(state)
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 8.0) -> MirrorState:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for state in self.seen:
                    if predicate(state):
                        return state
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such state within {timeout} s; saw {[s.status for s in self.seen]}")
                self._changed.wait(left)

    def wait_synced(self, text: str, timeout: float = 8.0) -> MirrorState:
        return self.wait_for(lambda s: s.status == "synced" and s.sent_text == text, timeout)


def mirror_for(server, states=None, *, channel=None, **options) -> SlackMirror:
    """A mirror on the local server, quick to retry: the one way the Slack tests make one."""
    options.setdefault("min_interval", 0)
    options.setdefault("flush_timeout", 10)
    options.setdefault("request_timeout", 2)
    options.setdefault("backoff_base", 0.05)
    options.setdefault("backoff_max", 0.4)
    return SlackMirror(server.token, channel or server.channel_id, base_url=server.url, on_state=states, **options)
