"""The chart engine: which curves, drawn how, at what cost, and without matplotlib."""

import io
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image

from slacknb.core import chart
from slacknb.core.chart import (BOTTOM_PX, COLOURS, MAX_PANELS, PANEL_PX, TOP_PX, WIDTH_PX, Columns,
                                check_plot, chart_png, decimate, panels)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_log(rows: int, *, per_epoch: int = 10) -> list[dict]:
    log = []
    for i in range(rows):
        row = {"epoch": i // per_epoch + 1, "iteration": i + 1, "main/loss": 2.0 / (i + 1),
               "main/accuracy": 1 - 1.0 / (i + 2), "elapsed_time": 0.1 * i, "lr": 0.01}
        if (i + 1) % per_epoch == 0:
            row["validation/main/loss"] = 2.5 / (i + 1)
            row["validation/main/accuracy"] = 1 - 1.5 / (i + 2)
        log.append(row)
    return log


def state(log, status="Training", label="mnist"):
    return SimpleNamespace(status=status, log=log, label=label)


def image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    picture = Image.open(io.BytesIO(png))
    picture.load()
    return picture.convert("RGB")


def pixels_of(picture: Image.Image, colour: str) -> int:
    rgb = np.asarray(picture).reshape(-1, 3)
    want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb.astype(int) - want).sum(axis=1) < 30).sum())


def test_default_chart_is_a_png_with_a_loss_and_an_accuracy_panel():
    picture = image(chart_png(state(run_log(200))))
    assert picture.size == (WIDTH_PX, 2 * PANEL_PX + TOP_PX + BOTTOM_PX)
    # The loss curves in the first colour, the accuracy curves in the second.
    assert pixels_of(picture, COLOURS[0]) > 500
    assert pixels_of(picture, COLOURS[1]) > 500


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


def test_plot_chooses_entries_and_groups_them_by_last_name_part():
    x_key, shown = panels(run_log(30), plot=("lr", "main/loss", "validation/main/loss"))
    assert [(p.title, [s.key for s in p.series]) for p in shown] == [
        ("lr", ["lr"]), ("loss", ["main/loss", "validation/main/loss"])]
    picture = image(chart_png(state(run_log(30)), plot=["main/loss"]))
    assert picture.size == (WIDTH_PX, PANEL_PX + TOP_PX + BOTTOM_PX)


def test_empty_plot_means_no_chart_and_empty_log_has_none():
    assert chart_png(state(run_log(30)), plot=[]) is None
    assert chart_png(state([])) is None
    assert chart_png(state([{"epoch": 1, "elapsed_time": 1.0}])) is None


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


def test_nan_and_inf_are_left_out_and_all_nan_draws_nothing():
    log = [{"iteration": i, "main/loss": v} for i, v in enumerate([1.0, math.nan, 0.5, math.inf, None, "x"])]
    _, shown = panels(log)
    assert list(shown[0].series[0].y) == [1.0, 0.5]
    assert chart_png(state([{"iteration": 1, "main/loss": math.nan}])) is None


def test_one_point_still_draws_a_visible_marker():
    picture = image(chart_png(state([{"epoch": 1, "iteration": 10, "main/loss": 0.7}])))
    assert pixels_of(picture, COLOURS[0]) > 20


def test_failed_run_chart_ends_at_the_failure():
    log = run_log(37)
    _, shown = panels(log)
    assert max(s.x[-1] for p in shown for s in p.series) == 37
    assert image(chart_png(state(log, status="Failed"))).size[0] == WIDTH_PX


def test_chart_changes_as_the_run_trains():
    log = run_log(40)
    first = chart_png(state(log[:10]))
    assert chart_png(state(log)) != first


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


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_slacknb_does_not_import_matplotlib_and_charts_never_use_pyplot():
    done = run_python(
        "import sys, slacknb, slacknb.core.chart as c\n"
        "assert 'matplotlib' not in sys.modules, 'imported by import slacknb'\n"
        "png = c.chart_png(type('S', (), {'status': 'Training', 'label': '', "
        "'log': [{'iteration': 1, 'main/loss': 1.0}, {'iteration': 2, 'main/loss': 0.5}]})())\n"
        "assert png.startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    assert done.returncode == 0, done.stderr


def test_missing_matplotlib_is_one_line_naming_the_install():
    done = run_python(
        "import sys; sys.modules['matplotlib'] = None\n"
        "import slacknb.core.chart as c\n"
        "print(c.available())\n"
        "try:\n"
        "    c.chart_png(type('S', (), {'status': 'Training', 'label': '', "
        "'log': [{'iteration': 1, 'main/loss': 1.0}]})())\n"
        "except c.ChartsUnavailable as e:\n"
        "    print(e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [chart.MISSING, chart.MISSING]
    assert "pip install matplotlib" in chart.MISSING
