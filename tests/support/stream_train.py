"""One of many parallel training runs for tests/test_streams.py: a small MLP with SlackReport.

Usage: python tests/support/stream_train.py INDEX OUT_DIR RESULT_JSON
Slack settings come from the environment (SLACK_BOT_TOKEN, SLACK_CHANNEL_ID, SLACKNB_API_URL).
Run INDEX trains 1 + INDEX % 4 epochs from seed INDEX, so every run's table is its own.
The result file holds what this process's report says, for the test to compare with Slack.
"""

import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from support.training import ENTRIES, make_trainer  # noqa: E402

from slacknb import SlackReport  # noqa: E402


def main(index: int, out: str, result: str) -> None:
    epochs = 1 + index % 4
    trainer = make_trainer(out, epochs=epochs, seed=index, samples=400)
    report = SlackReport(None, None, ENTRIES, template="{label} {status}\n{content}", finish_mentions="U0ALICE",
                         min_interval=1.0, out=io.StringIO())
    trainer.extend(report, trigger=(1, "epoch"))
    trainer.run()
    with open(result, "w") as f:
        json.dump({"label": report.label, "text": report.text, "status": report.state.status,
                   "epochs": epochs, "slack": report.slack.status}, f)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
