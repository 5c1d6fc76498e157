"""Cost of the one scrub (core/scrub.py) against the render it follows.

Usage: python bench/scrub.py [--repeat 2000] [--rounds 5]

In the same run, interleaved, on a 4,000-byte message of a 10,000-row log:
- render: a steady render (one row appended, then a render) with no scrub at all;
- render + scrub: the same with a run's scrub (two configured tokens; then also three
  patterns), the renderer's real cost of scrubbing (the same renderer, in turns);
- scrub alone on the rendered text, clean or holding two tokens, for three scrubbers:
  the built-in shapes only, + two configured tokens, + three patterns;
- the scrub of the same text as Block Kit sections (Scrubber.nested), as the Slack layer
  would scrub an edit's blocks.
It prints medians (CPU time per call) and ratios against the render of the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from slacknb.core.context import RunContext
from slacknb.core.render import Renderer, utf8_len
from slacknb.core.scrub import Scrubber
from slacknb.core.state import ReportState

ENTRIES = ["epoch", "iteration", "main/loss", "main/accuracy",
           "validation/main/loss", "validation/main/accuracy", "elapsed_time"]
CONTEXT = RunContext("gpu-node-01", "/home/me/experiments/mnist", "train.py", "--epoch 100 --lr 0.1", "")
BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
PATTERNS = (r"hunter\d+", r"(?i)sk-[a-z0-9]{20,}", r"AKIA[0-9A-Z]{16}")


def observation(i: int, rng: random.Random) -> dict:
    return {"epoch": i // 100 + 1, "iteration": i + 1, "main/loss": rng.random(),
            "main/accuracy": rng.random(), "validation/main/loss": rng.random(),
            "validation/main/accuracy": rng.random(), "elapsed_time": i * 0.37}


def per_call(function, repeat: int) -> float:
    # CPU time of this process: on a shared machine other processes' load does not count.
    start = time.process_time()
    for _ in range(repeat):
        function()
    return (time.process_time() - start) / repeat


def blocks_of(text: str) -> list:
    """The message as Block Kit sections of under 3,000 characters, as the Slack layer sends it."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[i:i + 2900]}}
            for i in range(0, len(text), 2900)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(0)
    log = [observation(i, rng) for i in range(10000)]
    state = ReportState(status="Training", log=log, entries=ENTRIES, elapsed=3723, updated_at=1796102577)
    run_scrub = Scrubber(secrets=(BOT, APP), patterns=PATTERNS)
    renderer = Renderer(context=CONTEXT, scrub=str)  # str(text) is text: no scrub at all
    clean = renderer.render(state)
    dirty = clean.replace("train.py", f"train.py {BOT}", 1).replace("mnist", APP, 1)
    scrubbers = {"shapes": Scrubber(), "+ tokens": Scrubber(secrets=(BOT, APP)), "+ patterns": run_scrub}
    assert Renderer(context=CONTEXT, scrub=run_scrub).render(state) == clean
    assert run_scrub(dirty).count("[hidden]") == 2
    # One renderer, its scrub swapped call by call (in turns, first one then another), so that
    # every case renders the same kind of state: one row more than the last render.
    renders = {"render": str, "render + scrub, tokens": scrubbers["+ tokens"], "render + scrub, + patterns": run_scrub}
    times: dict[str, list[float]] = {name: [] for name in renders}

    def render_round() -> None:
        spent = dict.fromkeys(renders, 0.0)
        order = list(renders.items())
        for i in range(args.repeat):
            for name, scrub in order[i % 3:] + order[:i % 3]:
                log.append(observation(len(log), rng))
                renderer.scrub = scrub
                start = time.process_time()
                renderer.render(state)
                spent[name] += time.process_time() - start
        for name in renders:
            times[name].append(spent[name] / args.repeat)

    cases = {}
    for name, scrub in scrubbers.items():
        cases[f"scrub {name}, clean"] = lambda scrub=scrub: scrub(clean)
        cases[f"scrub {name}, 2 tokens"] = lambda scrub=scrub: scrub(dirty)
    cases["nested blocks + patterns"] = lambda blocks=blocks_of(dirty): run_scrub.nested(blocks)
    times.update({name: [] for name in cases})
    for _ in range(args.rounds):
        render_round()
        for name, call in cases.items():  # interleaved: each round measures every case
            times[name].append(per_call(call, args.repeat))
    render = statistics.median(times["render"])
    print(f"message {utf8_len(clean)} bytes, log {len(log)} rows; median of {args.rounds} rounds of "
          f"{args.repeat} calls")
    print(f"{'case':<28} {'us per call':>12} {'/ render':>9}")
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:<28} {median * 1e6:>12.1f} {median / render:>9.3f}")


if __name__ == "__main__":
    main()
