import pytest
from hypothesis import given, strategies as st

from slacknb.core.normalize import STRATEGIES, check_strategy, select_rows

costs_strategy = st.lists(st.integers(min_value=1, max_value=120), max_size=400)
budgets = st.integers(min_value=0, max_value=6000)


def cost_of(costs):
    return costs.__getitem__


@given(costs_strategy, budgets, st.sampled_from(STRATEGIES))
def test_never_exceeds_budget_and_ascending(costs, budget, strategy):
    chosen = select_rows(len(costs), cost_of(costs), budget, strategy)
    assert sum(costs[i] for i in chosen) <= budget
    assert chosen == sorted(set(chosen))


@given(costs_strategy, budgets)
def test_thin_out_keeps_newest_row_when_it_fits(costs, budget):
    chosen = select_rows(len(costs), cost_of(costs), budget, "thin_out")
    if costs and costs[-1] <= budget:
        assert chosen[-1] == len(costs) - 1


@given(st.integers(0, 3000), st.integers(1, 90), budgets)
def test_thin_out_is_uniform_and_smallest_interval_for_equal_rows(count, cost, budget):
    chosen = select_rows(count, lambda i: cost, budget, "thin_out")
    if len(chosen) >= 2:
        steps = {b - a for a, b in zip(chosen, chosen[1:])}
        assert len(steps) == 1
        step = steps.pop()
        # A step one smaller would not fit.
        smaller = len(range(count - 1, -1, -(step - 1))) if step > 1 else None
        if smaller is not None:
            assert smaller * cost > budget
    if count and cost * count <= budget:
        assert chosen == list(range(count))


@given(costs_strategy, budgets)
def test_fifo_keeps_the_longest_newest_suffix(costs, budget):
    chosen = select_rows(len(costs), cost_of(costs), budget, "fifo")
    assert chosen == list(range(len(costs) - len(chosen), len(costs)))
    if len(chosen) < len(costs):
        first_dropped = len(costs) - len(chosen) - 1
        assert sum(costs[i] for i in chosen) + costs[first_dropped] > budget


@given(costs_strategy, budgets)
def test_lifo_keeps_the_longest_oldest_prefix(costs, budget):
    chosen = select_rows(len(costs), cost_of(costs), budget, "lifo")
    assert chosen == list(range(len(chosen)))
    if len(chosen) < len(costs):
        assert sum(costs[: len(chosen) + 1]) > budget


def test_strategy_names_are_case_insensitive():
    assert check_strategy("FIFO") == "fifo"
    assert check_strategy("Thin_Out") == "thin_out"


def test_unknown_strategy_lists_valid_names():
    with pytest.raises(ValueError, match="thin_out, fifo, lifo"):
        check_strategy("newest")


def test_work_is_bounded_by_the_budget_not_the_log():
    asked = set()

    def cost(index):
        asked.add(index)
        return 60

    select_rows(1_000_000, cost, 4000, "thin_out")
    assert len(asked) < 2000
