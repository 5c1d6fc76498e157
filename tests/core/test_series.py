"""The curves: which entries, x on epoch or iteration, the plot option, reading and decimating."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from slacknb.core.series import MAX_PANELS, Columns, check_plot, decimate, panels
from support.charts import run_log

def test_default_series_are_losses_and_accuracies_with_validation_dashed():
    x_key, shown = panels(run_log(50))
    assert x_key == "iteration"
    assert [p.title for p in shown] == ["loss", "accuracy"]
    loss = {s.key: s for s in shown[0].series}
    assert set(loss) == {"main/loss", "validation/main/loss"}
    assert loss["validation/main/loss"].dashed and not loss["main/loss"].dashed
    assert loss["validation/main/loss"].base == loss["main/loss"].base == "main/loss"
    # Validation rows only exist at each epoch's end: the curve has those points.
    assert list(loss["validation/main/loss"].x) == [10, 20, 30, 40, 50]


def test_one_row_per_epoch_puts_epochs_on_x():
    x_key, shown = panels(run_log(20, per_epoch=1))
    assert x_key == "epoch"
    assert list(shown[0].series[0].x) == list(range(1, 21))


def test_log_without_epoch_or_iteration_uses_the_row_number():
    x_key, shown = panels([{"main/loss": v} for v in (3.0, 2.0, 1.0)])
    assert x_key is None and list(shown[0].series[0].x) == [0, 1, 2]


@pytest.mark.parametrize("plot, problem", [
    ("main/loss", "list of entry names"),
    (["main/loss", ""], "list of entry names"),
    ([1], "list of entry names"),
    (["a/loss", "b", "c", "d", "e"], f"at most {MAX_PANELS}"),
])
def test_bad_plot_option_names_the_fix(plot, problem):
    with pytest.raises(ValueError, match=problem):
        check_plot(plot)


def test_check_plot_keeps_order_and_drops_repeats():
    assert check_plot(None) is None
    assert check_plot([]) == ()
    assert check_plot(["main/loss", "lr", "main/loss"]) == ("main/loss", "lr")


@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=1, max_size=3000),
       st.integers(min_value=1, max_value=400))
def test_decimation_keeps_extremes_order_and_a_bounded_size(values, pixels):
    y = np.array(values)
    x = np.arange(len(y), dtype=float)
    dx, dy = decimate(x, y, pixels)
    assert len(dx) == len(dy) <= 2 * pixels or np.array_equal(dy, y)
    assert dy.min() == y.min() and dy.max() == y.max()
    assert np.all(np.diff(dx) >= 0)
    assert set(dx) <= set(x) and np.all(y[dx.astype(int)] == dy)


def test_columns_read_only_new_rows_and_agree_with_a_fresh_read():
    log = run_log(100)
    columns = Columns()
    panels(log, columns=columns)
    log.extend(run_log(130)[100:])
    _, kept = panels(log, columns=columns)
    _, fresh = panels(log)
    for a, b in zip(kept, fresh):
        for s, t in zip(a.series, b.series):
            assert s.key == t.key and np.array_equal(s.x, t.x) and np.array_equal(s.y, t.y)



def test_a_value_whose_number_raises_is_left_out_like_a_diverged_one():
    from support.hostile import RaisingNumber

    log = [{"iteration": 1, "main/loss": 1.0}, {"iteration": 2, "main/loss": RaisingNumber()},
           {"iteration": 3, "main/loss": 0.25}]
    _, shown = panels(log)
    assert list(shown[0].series[0].x) == [1, 3] and list(shown[0].series[0].y) == [1.0, 0.25]
