"""The chart engine: which curves, drawn how, at what cost, and without matplotlib."""

import io
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
from PIL import Image

from slacknb.core import chart
from slacknb.core.chart import BOTTOM_PX, COLOURS, PANEL_PX, TOP_PX, WIDTH_PX, chart_png
from slacknb.core.series import panels
from support.charts import run_log

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def test_final_drawing_is_the_state_at_the_end_drawn_later():
    log = run_log(37)
    drawing = chart.final_drawing(state(log, status="Failed", label="mnist run/3"), plot=None)
    log.extend(run_log(50)[37:])  # rows after the snapshot are not drawn
    assert drawing.filename == "mnist-run-3-failed.png"
    png = drawing()
    assert png == chart_png(state(log[:37], status="Failed", label="mnist run/3"))
    assert chart.final_drawing(state(log), plot=[]) is None
    assert chart.final_drawing(state([])) is None
    assert chart.chart_filename("", "Completed") == "training-completed.png"
