import io

import numpy as np
from chainer.training.extensions import PrintReport

from slacknb.core.table import format_header, format_row, pick_entries


def printreport_output(entries, log):
    """What Chainer's PrintReport itself writes for ``log`` (escape codes removed)."""
    out = io.StringIO()
    report = PrintReport(entries, out=out)
    out.write(report._header)
    for observation in log:
        report._print(observation)
    return out.getvalue().replace("\033[J", "")


def test_same_layout_as_printreport():
    entries = ["epoch", "main/loss", "validation/main/accuracy", "elapsed_time"]
    log = [{"epoch": 1, "main/loss": 0.123456789, "elapsed_time": 1.5},
           {"epoch": 2, "main/loss": np.float32(1e-7), "validation/main/accuracy": 0.9,
            "elapsed_time": 12345.678}]
    expected = [line.rstrip() for line in printreport_output(entries, log).splitlines()]
    ours = [format_header(entries)] + [format_row(entries, o) for o in log]
    assert ours == expected


def test_non_numeric_values_do_not_break_the_row():
    assert format_row(["epoch", "note"], {"epoch": 1, "note": "warm-up"}).split() == ["1", "warm-up"]


def test_auto_entries_order():
    log = [{"elapsed_time": 1, "lr": 0.1, "validation/main/loss": 1, "main/loss": 2,
            "iteration": 10, "epoch": 1, "main/accuracy": 0.5}]
    assert pick_entries(log) == ["epoch", "iteration", "main/accuracy", "main/loss",
                                 "validation/main/loss", "lr", "elapsed_time"]
