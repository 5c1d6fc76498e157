import random

import pytest
from hypothesis import given, settings, strategies as st

from slacknb.core.board import (COMPLETE, FAIL, PRUNED, RUNNING, WAITING, BoardRenderer, BoardState, TrialRow,
                                best_label, board_columns, board_header, board_rows, end_reply)
from slacknb.core.slack_text import utf8_len

NOW = 1796102577  # 2026-12-01 05:22:57 UTC
DATE = "<!date^1796102577^{ago}|2026-12-01 05:22:57 UTC>"


def table_lines(text):
    return text.split("```")[1].strip("\n").splitlines()


def study(n=20, seed=0, running=5, **kwargs):
    """n trials: every ``running``-th running, every 7th pruned, every 11th failed, the rest complete."""
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        state = RUNNING if i % running == running - 1 else PRUNED if i % 7 == 6 else FAIL if i % 11 == 10 else COMPLETE
        trials.append(TrialRow(i, state, {"lr": rng.uniform(1e-4, 1e-1), "layers": i % 3 + 1},
                               values=(rng.uniform(0.05, 1.0),) if state == COMPLETE else None,
                               epoch=i % 9 if state != FAIL else None, reported=rng.random(), duration=7.5 * i))
    best = min((t for t in trials if t.values), key=lambda t: t.values[0]).number
    return BoardState("lr-search", ("minimize",), tuple(trials), best=(best,), updated_at=NOW, **kwargs)


def test_the_header_counts_states_in_words_and_names_the_best_trial_with_its_parameters():
    trials = (TrialRow(0, COMPLETE, {"lr": 0.0031}, (0.0812341234,)), TrialRow(1, RUNNING, {"lr": 0.01}),
              TrialRow(2, PRUNED, {"lr": 0.2}), TrialRow(3, COMPLETE, {"lr": 0.5}, (0.3,)),
              TrialRow(4, FAIL, {"lr": 0.9}), TrialRow(5, RUNNING, {"lr": 1e-5}))
    header = board_header(BoardState("lr-search", ("minimize",), trials, best=(0,), updated_at=NOW))
    assert header == ("lr-search \u00b7 minimize \u00b7 2 complete, 2 running, 1 pruned, 1 failed \u00b7 "
                      f"best 0.0812341 (trial 0: lr=0.0031) \u00b7 updated {DATE}")


def test_a_study_without_trials_or_without_a_complete_one_says_so():
    assert board_header(BoardState("s", ("maximize",))) == "s \u00b7 maximize \u00b7 no trials yet"
    running = BoardState("s", ("maximize",), (TrialRow(0, RUNNING),), updated_at=None)
    assert board_header(running) == "s \u00b7 maximize \u00b7 1 running"
    assert BoardRenderer().render(running).splitlines()[0] == "s \u00b7 maximize \u00b7 1 running"


def test_the_table_has_a_row_per_trial_in_the_report_tables_number_format():
    state = study(6)
    text = BoardRenderer().render(state)
    lines = table_lines(text)
    assert lines[0].split() == ["trial", "state", "lr", "layers", "value", "epoch", "reported", "duration"]
    assert [line.split()[0] for line in lines[1:]] == ["0", "1", "2", "3", "4", "5"]
    row = lines[1].split()
    assert row[1] == "Complete" and row[-1] == "0:00:00"
    assert row[2] == f"{state.trials[0].params['lr']:g}"  # six significant digits, as PrintReport
    running = lines[5].split()
    assert running[1] == "Running" and running[-1] == "0:00:30"
    # The value column is empty for a running trial: its epoch and reported value follow.
    assert running[4] == str(state.trials[4].epoch)


def test_numbers_align_on_the_point_like_the_report_table():
    trials = (TrialRow(0, COMPLETE, {"lr": 0.1}, (12.5,)), TrialRow(1, COMPLETE, {"lr": 0.00001}, (0.25,)))
    lines = table_lines(BoardRenderer().render(BoardState("s", ("minimize",), trials, best=(1,))))
    value = lines[0].index("value") + len("value")
    assert [line[:value].rstrip()[-4:] for line in lines[1:]] == ["12.5", "0.25"]
    assert "0.00001" in lines[2]  # fixed notation, not 1e-05


@pytest.mark.parametrize("strategy", ["thin_out", "fifo", "lifo"])
def test_running_and_best_trials_are_always_shown_within_max_bytes(strategy):
    state = study(300, seed=3, running=40)
    text = BoardRenderer(max_bytes=2000, normalizer=strategy).render(state)
    assert utf8_len(text) <= 2000
    shown = {int(line.split()[0]) for line in table_lines(text)[1:]}
    running = {t.number for t in state.trials if t.state == RUNNING}
    assert running <= shown and set(state.best) <= shown
    assert len(shown) > len(running) + 1  # the normalizer adds finished trials in the room left
    assert utf8_len(text) > 2000 - 120  # and uses it
    numbers = [int(line.split()[0]) for line in table_lines(text)[1:]]
    assert numbers == sorted(numbers)


def test_when_not_even_the_running_trials_fit_the_newest_of_them_stay():
    trials = tuple(TrialRow(i, RUNNING, {"lr": 0.001 * i}, duration=float(i)) for i in range(200))
    text = BoardRenderer(max_bytes=600).render(BoardState("s", ("minimize",), trials, updated_at=NOW))
    assert utf8_len(text) <= 600
    numbers = [int(line.split()[0]) for line in table_lines(text)[1:]]
    assert numbers and numbers[-1] == 199 and numbers == list(range(200 - len(numbers), 200))
    assert f"updated {DATE}" in text


def test_user_text_is_escaped_and_cannot_close_the_code_block():
    trials = (TrialRow(0, COMPLETE, {"opt": "<!channel>", "act": "a```b"}, (1.0,)),)
    text = BoardRenderer().render(BoardState("<b>&", ("minimize",), trials, best=(0,)))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert text.startswith("&lt;b&gt;&amp;")
    assert text.count("```") == 2


def test_several_objectives_get_a_value_column_each_and_the_pareto_front():
    trials = (TrialRow(0, COMPLETE, {"x": 1}, (0.5, 2.0)), TrialRow(1, COMPLETE, {"x": 2}, (0.1, 3.0)),
              TrialRow(2, WAITING, {"x": 3}))
    state = BoardState("mo", ("minimize", "maximize"), trials, best=(0, 1))
    assert board_columns(state)[3:5] == ("value0", "value1")
    assert board_rows(state)[1]["value1"] == 3.0
    assert "minimize, maximize" in board_header(state)
    assert "best: 2 on the Pareto front (trials 0, 1)" in board_header(state)
    assert "1 waiting" in board_header(state)


def test_the_end_reply_mentions_people_and_says_the_best_so_far():
    state = study(7)
    best = state.trials[state.best[0]]
    text = end_reply(state, host="gpu-01", trials_here=3, mentions="<@U0ALICE>")
    assert text.startswith("<@U0ALICE> :white_check_mark: lr-search: optimize ended on gpu-01 after 3 trials here")
    assert f"(trial {best.number}: lr=" in text and "5 complete, 1 running, 1 pruned" in text
    failed = end_reply(state, host="gpu-01", trials_here=1, error="ValueError: <bad>", mentions="<@U0ALICE>",
                       prefix="<!here>")
    assert failed.startswith("<!here> <@U0ALICE> :x: lr-search: optimize failed on gpu-01 after 1 trial here: "
                             "ValueError: &lt;bad&gt;")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 120), budget=st.integers(256, 4000), seed=st.integers(0, 5),
       strategy=st.sampled_from(["thin_out", "fifo", "lifo"]))
def test_any_board_fits_its_budget(n, budget, seed, strategy):
    state = study(n, seed=seed) if n else BoardState("empty", ("minimize",), updated_at=NOW)
    if n and not any(t.values for t in state.trials):
        return
    text = BoardRenderer(max_bytes=4000, normalizer=strategy).render(state, max_bytes=budget)
    assert utf8_len(text) <= budget


def test_the_best_label_names_the_board_and_its_best_trial():
    state = study(7)
    best = state.trials[state.best[0]]
    assert best_label(state, "lr-search") == f"lr-search: best {best.values[0]:g} (trial {best.number}: lr=" \
        f"{best.params['lr']:g}, layers={best.params['layers']})"
    assert best_label(BoardState("s"), "s") == "s: no trial complete yet"
