"""What the framework tests share: a report on the local server that waits for Slack at its end, and a table's rows."""

from __future__ import annotations

import io


def local_report(report_class, server, entries, **kwargs):
    """A ``report_class`` (either framework's SlackReport) posting to ``server``, with no rate pause."""
    kwargs.setdefault("min_interval", 0)
    # The end of the run waits for Slack on purpose (0 by default): the tests read Slack next.
    kwargs.setdefault("flush_timeout", 10)
    kwargs.setdefault("out", io.StringIO())
    return report_class(server.token, server.channel_id, entries, base_url=server.url, **kwargs)


def table_lines(text):
    """The rows of the code block in a message, header first."""
    return text.split("```")[1].strip("\n").splitlines()


def shows_training(server) -> bool:
    """Whether a message in the server's channel reads Training (for ``server.wait_for``)."""
    return any(m.text.startswith("Training") for m in server.messages(server.channel_id))
