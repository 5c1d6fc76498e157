"""From the mirror's settings to a running outbox, or to why the report stays local.

:func:`connect` resolves the settings (:mod:`slacknb.slack.config`), builds the client, the
per-machine gate's :class:`~slacknb.slack.api.Api`, the :class:`~slacknb.slack.message.SlackMessage`
and the :class:`~slacknb.slack.outbox.Outbox`. Nothing is sent: the first update posts.
"""

from __future__ import annotations

from typing import Callable

from slacknb.slack.api import Api
from slacknb.slack.clock import Clock
from slacknb.slack.config import check_seconds, make_client, missing_setting_hint, resolve_config
from slacknb.slack.limits import SharedLimits, scope_of, shared_limits
from slacknb.slack.mentions import Mention
from slacknb.slack.message import SlackMessage
from slacknb.slack.operations import MirrorState
from slacknb.slack.outbox import Outbox

__all__ = ["check_arguments", "connect"]


def check_arguments(*, alert_prefix, label, alert_label, limits, on_state, client, **seconds) -> None:
    """TypeError/ValueError naming the fix for an argument of the wrong kind or value.

    ``seconds`` are the durations by name; only ``min_interval`` may be 0.
    """
    for name, value in seconds.items():
        check_seconds(name, value, allow_zero=name == "min_interval")
    for name, value in (("alert_prefix", alert_prefix), ("label", label)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if alert_label is not None and not isinstance(alert_label, str):
        raise TypeError(f"alert_label must be a string or None, not {type(alert_label).__name__}")
    if limits is not None and not isinstance(limits, SharedLimits):
        raise TypeError("limits must be a slacknb.slack.limits.SharedLimits, or None for the machine-wide one")
    if on_state is not None and not callable(on_state):
        raise TypeError("on_state must be a callable taking a MirrorState, or None")
    if client is not None and not hasattr(client, "chat_postMessage"):
        raise TypeError("client must be a slack_sdk.WebClient (or compatible), or None")


def connect(token: str | None, channel: str | None, *, base_url: str | None, local: bool, client,
            request_timeout: float, limits: SharedLimits | None, clock: Clock, mentions: tuple[Mention, ...],
            min_interval: float, backoff_base: float, backoff_max: float,
            on_state: Callable[[MirrorState], object] | None) -> tuple[Outbox | None, str]:
    """The outbox and the channel, or (None, why the report stays local: "" when asked to)."""
    config = resolve_config(None if local else token, channel, base_url=base_url, environ={} if local else None)
    if local:
        return None, ""
    if not (config.channel and (client is not None or config.token)):
        return None, missing_setting_hint(config) or "Slack mirroring is off: no channel given."
    client = client if client is not None else make_client(config.token, config.base_url, request_timeout)
    # A timed-out call may still be carried out late; twice the request timeout (at
    # least a second) is how long slacknb gives it before looking or reading back.
    settle = max(1.0, 2.0 * float(getattr(client, "timeout", request_timeout) or request_timeout))
    secret = getattr(client, "token", None) or config.token or ""
    base = getattr(client, "base_url", None) or config.base_url or ""
    api = Api(client, clock=clock, limits=limits if limits is not None else shared_limits(),
              scope=scope_of(base, secret))
    outbox = Outbox(SlackMessage(api, config.channel, clock=clock, settle=settle), mentions=mentions,
                    min_interval=min_interval, backoff_base=backoff_base,
                    backoff_max=max(backoff_max, backoff_base), clock=clock, on_state=on_state)
    return outbox, config.channel
