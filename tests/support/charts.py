"""A training log for the chart tests: falling losses, rising accuracies, validation at epoch ends."""

from __future__ import annotations


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


def text_replies(message) -> list:
    """The replies in a report's thread other than its chart (a file share), oldest first."""
    return [reply for reply in message.replies if not reply.files]
