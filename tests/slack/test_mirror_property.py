"""Whatever a run logs and whatever printable template renders it, the final message reaches Slack
(the local server, through real slack_sdk calls): exactly the text the notebook previews, within
the budget, with no control sequence a value wrote and no token; and the run never raises."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings, strategies as st

from slacknb.core.context import RunContext
from slacknb.core.outcome import Ending
from slacknb.core.render import Renderer, utf8_len
from slacknb.core.scrub import WEBHOOK_URL, looks_like_token
from slacknb.core.state import Status
from slacknb.core.template import Template
from slacknb.run import ReportRun
from slacknb.slack.mirror import SlackMirror
from slacknb.testing import SlackServer

from support.hostile import templates, values

KEYS = st.sampled_from(["epoch", "main/loss", "note", "<!channel>", "`x`"])
ROWS = st.lists(st.dictionaries(KEYS, values, min_size=1, max_size=4), min_size=1, max_size=6)
BUDGET = st.integers(min_value=600, max_value=4000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, rows=ROWS, budget=BUDGET, status=st.sampled_from([Status.COMPLETED, Status.FAILED]))
def test_any_logged_value_reaches_slack_as_the_final_message(template, rows, budget, status):
    template += "\n{content}\n{finish_mentions}"
    try:
        parsed = Template(template, warn=False)
    except ValueError:
        return  # refused at construction: the user is told before training
    with SlackServer() as server:
        mirror = SlackMirror(server.token, server.channel_id, base_url=server.url, mentions="U0ALICE",
                             backoff_base=0.05)
        run = ReportRun(renderer=Renderer(template=parsed, max_bytes=budget,
                                          context=RunContext("h", "/w", "train.py", f"--token {server.token}", "")),
                        mirror=mirror, views=[])
        run.start(log=rows, entries=None, label="property")
        run.record(elapsed=1.0, log_grew=True)
        run.finish(Ending(status, error=RuntimeError(f"login failed with {server.token}")))
        assert mirror.wait_delivered(30), mirror.state
        [message] = server.messages()
        text = message.text
        assert text == run.frame().preview
        assert utf8_len(text) <= budget
        # The only control sequences are those slacknb wrote (the mention, {updated}'s date);
        # values' '<' are escaped.
        assert re.findall(r"<[@!#](?!date\^)[^>]*>", text) in ([], ["<@U0ALICE>"])
        for shown in [text, *(reply.text for reply in message.replies)]:
            assert server.token not in shown and not looks_like_token(shown)
            assert re.search(WEBHOOK_URL, shown) is None
        mirror.close()
