import random
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from slacknb.core.context import RunContext
from slacknb.core.render import (CUT_MARKER, MAX_MAX_BYTES, MIN_MAX_BYTES, Renderer,
                            format_hms, progress_bar, utf8_len)
from slacknb.core.state import ReportState

CONTEXT = RunContext("gpu-host", "/home/me/exp", "train.py", "--lr 0.1", "")
ENTRIES = ["epoch", "main/loss", "elapsed_time"]


def make_log(n, seed=0):
    rng = random.Random(seed)
    return [{"epoch": i + 1, "main/loss": rng.random(), "elapsed_time": i * 1.5} for i in range(n)]


def renderer(**kwargs):
    return Renderer(context=CONTEXT, **kwargs)


NOW = 1796102577  # 2026-12-01 05:22:57 UTC
DATE = "<!date^1796102577^{ago}|2026-12-01 05:22:57 UTC>"


def test_started_state_says_it_waits_for_the_first_report():
    text = renderer().render(ReportState(updated_at=NOW))
    assert text == (f"Started - 0:00:00 (updated {DATE}) `gpu-host:/home/me/exp$ train.py --lr 0.1`\n"
                    "_waiting for the first report_\n")


@pytest.mark.parametrize("status", ["Completed", "Failed", "Interrupted", "Stopped"])
def test_a_run_that_ended_before_its_first_report_shows_no_waiting_line(status):
    text = renderer().render(ReportState(status=status, updated_at=NOW))
    assert "waiting" not in text and text.endswith("`\n\n")


def test_the_waiting_line_is_escaped_and_can_be_turned_off():
    assert "_a &lt;b&gt;_" in renderer().render(ReportState(waiting="a <b>"))
    assert renderer().render(ReportState(waiting="", updated_at=NOW)).endswith("`\n\n")


def test_full_log_fits_and_is_the_printreport_table():
    log = make_log(5)
    text = renderer().render(ReportState(status="Training", log=log, entries=ENTRIES, elapsed=65,
                                         updated_at=NOW + 0.9))
    lines = text.splitlines()
    assert lines[0] == f"Training - 0:01:05 (updated {DATE}) `gpu-host:/home/me/exp$ train.py --lr 0.1`"
    assert lines[1] == "```"
    assert lines[2].split() == ENTRIES
    assert [line.split()[0] for line in lines[3:8]] == ["1", "2", "3", "4", "5"]
    assert lines[8] == "```"


@pytest.mark.parametrize("strategy, expect_first, expect_last", [
    ("thin_out", None, "2000"), ("fifo", None, "2000"), ("lifo", "1", None)])
def test_long_log_fits_budget_with_each_strategy(strategy, expect_first, expect_last):
    text = renderer(normalizer=strategy).render(
        ReportState(status="Training", log=make_log(2000), entries=ENTRIES))
    assert utf8_len(text) <= 4000
    rows = text.split("```")[1].strip("\n").splitlines()
    assert rows[0].split() == ENTRIES
    if expect_first:
        assert rows[1].split()[0] == expect_first
    if expect_last:
        assert rows[-1].split()[0] == expect_last
    # The budget is actually used; thin_out's uniform interval moves in whole rows
    # (2,000 rows at interval 16 or 17: 125 or 118 rows), fifo and lifo fill to a row.
    assert utf8_len(text) > (4000 * 0.93 if strategy == "thin_out" else 4000 - 40)


def test_metric_names_cannot_ping_anyone():
    log = [{"<!channel>": 1.0, "main/`````x": 2.0}]
    text = renderer().render(ReportState(log=log))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert text.count("```") == 2


def test_mentions_are_real_control_sequences():
    text = renderer().render(ReportState(status="Completed", mentions="<@U0ALICE> <!here>"))
    assert text.endswith("<@U0ALICE> <!here>")


def test_context_is_escaped_and_kept_inside_inline_code():
    ctx = RunContext("h<!here>", "/tmp/a&b", "x`y", "", "")
    text = Renderer(context=ctx).render(ReportState())
    assert "<!here>" not in text and "&lt;!here&gt;" in text and "a&amp;b" in text
    assert text.splitlines()[0].count("`") == 2


def test_oversized_template_is_cut_keeping_status_and_mentions():
    r = renderer(template="{status} " + "x" * 5000 + " {finish_mentions}", max_bytes=500)
    text = r.render(ReportState(status="Failed", mentions="<@U0BOB>"))
    assert utf8_len(text) <= 500
    assert text.startswith("Failed ")
    assert CUT_MARKER in text and text.endswith("<@U0BOB>")


def test_header_alone_too_wide_is_cut_visibly():
    entries = [f"metric/{i:03d}/with/a/very/long/name" for i in range(40)]
    log = [{e: 1.0 for e in entries}]
    text = renderer(max_bytes=300).render(ReportState(status="Training", log=log, entries=entries))
    assert utf8_len(text) <= 300 and CUT_MARKER in text and text.startswith("Training")


@pytest.mark.parametrize("bad", [0, 255, 40001, -1])
def test_max_bytes_out_of_range(bad):
    with pytest.raises(ValueError, match=f"{MIN_MAX_BYTES} to {MAX_MAX_BYTES}"):
        renderer(max_bytes=bad)


def test_max_bytes_wrong_type():
    with pytest.raises(TypeError):
        renderer(max_bytes="4000")


def test_unknown_normalizer_raises_at_construction():
    with pytest.raises(ValueError, match="thin_out, fifo, lifo"):
        renderer(normalizer="random")


def test_entries_none_picks_columns_as_the_log_fills():
    log = [{"epoch": 1, "elapsed_time": 1.0}]
    r = renderer()
    state = ReportState(log=log)
    assert r.entries(state) == ("epoch", "elapsed_time")
    log.append({"epoch": 2, "main/loss": 0.5, "elapsed_time": 2.0})
    assert r.entries(state) == ("epoch", "main/loss", "elapsed_time")


def test_format_helpers():
    assert format_hms(3725.9) == "1:02:05"
    assert format_hms(None) == ""
    assert progress_bar(0.42) == "[####------] 42%"
    assert progress_bar(None) == ""


text_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.dictionaries(text_values, st.one_of(st.floats(allow_nan=True), text_values),
                                  max_size=5), max_size=60),
    budget=st.integers(MIN_MAX_BYTES, 3000),
    strategy=st.sampled_from(["thin_out", "fifo", "lifo"]),
    mentions=st.sampled_from(["", "<@U0ALICE>", "<!here> <@U1>"]),
    status=st.sampled_from(["Training", "Failed"]),
    hostname=text_values,
)
def test_any_input_fits_and_leaks_no_control_sequence(rows, budget, strategy, mentions, status, hostname):
    ctx = RunContext(hostname, "/w", "c", "a", "")
    r = Renderer(context=ctx, max_bytes=budget, normalizer=strategy)
    text = r.render(ReportState(status=status, log=rows, mentions=mentions))
    assert utf8_len(text) <= budget
    # Every '<' in the text belongs to the mentions slacknb wrote itself.
    assert text.count("<") == mentions.count("<") or CUT_MARKER in text
    assert text.startswith(status)
    if any(rows) and CUT_MARKER not in text:
        assert text.count("```") == 2  # content cannot close its code block early


# -- {updated}: how old the message is ----------------------------------------------------

def test_updated_is_slacks_date_markup_unescaped_with_a_utc_fallback():
    text = renderer(template="{updated}").render(ReportState(updated_at=NOW))
    assert text == DATE  # authored by slacknb: not escaped to &lt;!date...


def test_updated_is_empty_when_the_time_is_unknown():
    assert renderer(template="[{updated}]").render(ReportState()) == "[]"


def test_updated_is_counted_in_the_budget():
    state = ReportState(status="Training", log=make_log(3000), entries=ENTRIES, updated_at=NOW)
    for budget in (300, 1000, 4000):
        text = renderer(max_bytes=budget, normalizer="fifo").render(state)
        assert DATE in text and utf8_len(text) <= budget
        assert utf8_len(text) > budget - 80  # and the table still fills the rest


def test_a_cut_keeps_the_staleness_line():
    template = "{status} " + "x" * 600 + " {updated}"
    text = renderer(template=template, max_bytes=300).render(ReportState(updated_at=NOW))
    assert utf8_len(text) <= 300 and CUT_MARKER in text
    assert text.startswith("Started ") and text.endswith(f"updated {DATE}")


def test_trend_placeholder_shows_the_main_loss_sparkline():
    log = [{"epoch": i + 1, "main/loss": 2.0 / (i + 1)} for i in range(6)]
    text = renderer(template="{status} {trend}").render(ReportState(status="Training", log=log))
    assert text == "Training main/loss █▄▂▂▁▁ 0.3333"
    assert renderer(template="{trend}|").render(ReportState()) == "|"


def test_trend_is_escaped_and_counted_in_the_budget():
    # A training loss named so that it would ping the channel, unescaped.
    log = [{"epoch": i + 1, "<!channel>/loss": 1.0 / (i + 1)} for i in range(3000)]
    text = renderer(template="{trend}\n{content}", max_bytes=1000).render(
        ReportState(status="Training", log=log, entries=["epoch", "<!channel>/loss"]))
    assert text.startswith("&lt;!channel&gt;/loss ") and "<!channel>" not in text
    assert 1000 - 80 < utf8_len(text) <= 1000


# -- whatever a run logs, the message renders (issue 18) -------------------------------------

import numpy as np

from slacknb.core.scrub import WEBHOOK_URL, looks_like_token
from slacknb.core.template import Template
from support.hostile import APP, BOT, HOSTILE, WEBHOOK, RaisingStr, templates, values


def test_a_value_that_cannot_be_encoded_or_whose_str_raises_shows_as_a_placeholder():
    log = [{"epoch": 1, "main/loss": 0.5, "note": "\ud800"}, {"epoch": 2, "main/loss": 0.25, "note": RaisingStr()}]
    text = renderer().render(ReportState(status="Completed", log=log, entries=["epoch", "main/loss", "note"]))
    text.encode("utf-8")
    rows = text.split("```")[1].strip("\n").splitlines()
    assert text.startswith("Completed") and [row.split() for row in rows[1:]] == [["1", "0.5", "?"],
                                                                                    ["2", "0.25", "?"]]


def test_one_over_wide_value_keeps_every_row_and_the_loss():
    log = [{"epoch": i, "main/loss": 1.0 / i} for i in range(1, 21)]
    log[3]["note"], log[4]["note"] = "x" * 100_000, np.arange(1000)
    text = renderer().render(ReportState(status="Training", log=log, entries=["epoch", "main/loss", "note"]))
    rows = text.split("```")[1].strip("\n").splitlines()[1:]
    assert [row.split()[0] for row in rows] == [str(i) for i in range(1, 21)]
    assert rows[-1].split()[1] == "0.05" and utf8_len(text) <= 4000


def test_a_label_cannot_open_a_code_fence_or_a_code_span():
    text = renderer(template="{label} {status}\n{content}").render(
        ReportState(status="Training", label="run```x`y", log=make_log(2), entries=ENTRIES))
    assert text.count("```") == 2 and text.startswith("run'''x'y Training\n```")


def test_an_integral_number_of_any_kind_is_a_max_bytes():
    assert renderer(max_bytes=np.int64(4000)).max_bytes == 4000
    assert type(renderer(max_bytes=np.int32(300)).max_bytes) is int
    with pytest.raises(TypeError):
        renderer(max_bytes=4000.0)


def test_tokens_and_secret_arguments_never_reach_the_text():
    ctx = RunContext("h", "/w", "train.py", f"--token {BOT} --api-key=sk-123 --lr 0.1", "")
    log = [{"epoch": 1, "note": f"auth {APP}"}, {"epoch": 2, "note": WEBHOOK}]
    text = Renderer(context=ctx).render(ReportState(status="Failed", label=BOT, log=log, entries=["epoch", "note"]))
    assert BOT not in text and APP not in text and "hooks.slack.com" not in text and "sk-123" not in text
    assert "--token [hidden] --api-key=[hidden] --lr 0.1" in text and not looks_like_token(text)


def test_the_configured_secrets_and_patterns_are_hidden():
    from slacknb.core.scrub import Scrubber

    r = renderer(template="{label} {content}", scrub=Scrubber(secrets=("plain-secret-value",), patterns=(r"hunter\d",)))
    text = r.render(ReportState(label="plain-secret-value", log=[{"pw": "hunter2"}]))
    assert "plain-secret-value" not in text and "hunter2" not in text and text.count("[hidden]") == 2


def test_scrubbing_is_before_the_cut_so_no_part_of_a_token_shows():
    text = renderer(template="{label}", max_bytes=256).render(ReportState(label="y" * 240 + BOT))
    assert utf8_len(text) <= 256 and "xoxb" not in text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(template=templates, rows=st.lists(st.dictionaries(st.sampled_from(["epoch", "main/loss", "note", "<!x>"]),
                                                         values, max_size=4), max_size=12),
       budget=st.integers(MIN_MAX_BYTES, 4000), label=values, args=values,
       mentions=st.sampled_from(["", "<@U0ALICE>", "<!here> <@U1>"]),
       status=st.sampled_from(["Started", "Training", "Completed", "Failed", "Interrupted"]),
       table=st.sampled_from(["", "\n{content}", "{content:.300}"]))
def test_any_logged_value_and_printable_template_render_within_budget_and_safely(
        template, rows, budget, label, args, mentions, status, table):
    template += table  # random templates seldom show the table by themselves
    args = args if isinstance(args, str) else ""
    try:
        parsed = Template(template, warn=False)
    except ValueError:
        return  # refused at construction: the user is told before training
    r = Renderer(template=parsed, context=RunContext("h", "/w", "c", args, ""), max_bytes=budget)
    label = label if isinstance(label, str) else ""
    text = r.render(ReportState(status=status, log=rows, mentions=mentions, label=label))
    assert utf8_len(text) <= budget
    text.encode("utf-8")
    # '<' only in the mentions slacknb wrote, or in an unknown placeholder kept as written ({gpu:<9}):
    # the template's text has none, and values are escaped.
    shown = r.template.count("finish_mentions") + 1  # + 1: a cut keeps them
    assert text.count("<") <= mentions.count("<") * shown + template.count("<")
    assert not looks_like_token(text) and re.search(WEBHOOK_URL, text) is None
    # A value's backticks neither close the content's code block nor open one.
    assert text.count("```") <= template.count("```") + 2 * r.template.count("content") + 1


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__)
def test_every_hostile_value_in_every_place_renders(value):
    r = renderer(template="{status} {label} {trend}\n{content}")
    log = [{"epoch": 1, "main/loss": value, value if isinstance(value, str) else "x": value}]
    text = r.render(ReportState(status="Completed", log=log, label=value if isinstance(value, str) else ""))
    assert text.startswith("Completed") and utf8_len(text) <= 4000 and not looks_like_token(text)
