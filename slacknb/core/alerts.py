"""The end-of-run replies, as pure text: the failure alert and the finish reply.

Both go into the report message's thread as NEW messages, because editing a message to
add a mention notifies nobody. Everything not written by slacknb (label, error,
traceback, console) is escaped; tails are bounded so a reply stays well under Slack's
4,000-character limit.
"""

from __future__ import annotations

from slacknb.core.slack_text import ELLIPSIS, code_block, cut, escape, inline_code_safe
from slacknb.core.state import FINAL_STATUSES, Status

__all__ = ["ALERTED", "OUTCOMES", "REPLY_CHARS", "escaped_tail", "failure_alert", "finish_reply", "outcome_line",
           "to_outcome", "wants_reply"]

OUTCOMES = (Status.COMPLETED, Status.FAILED, Status.INTERRUPTED, Status.STOPPED, Status.PRUNED, Status.TERMINATED)
# The endings that send the failure alert: a run killed by its job's scheduler is as
# urgent as one that crashed (the alert options and min_iterations apply to both).
ALERTED = frozenset({Status.FAILED, Status.TERMINATED})
_EMOJI = {Status.COMPLETED: ":white_check_mark:", Status.FAILED: ":x:", Status.INTERRUPTED: ":warning:",
          Status.STOPPED: ":octagonal_sign:", Status.PRUNED: ":scissors:", Status.TERMINATED: ":no_entry:"}
# "Completed in 0:03:12" reads as a duration; "Failed after 0:03:12" as the moment it stopped.
_PREPOSITION = {Status.COMPLETED: "in", Status.FAILED: "after", Status.INTERRUPTED: "after",
                Status.STOPPED: "after", Status.PRUNED: "after", Status.TERMINATED: "after"}

TRACEBACK_LINES = 20
TRACEBACK_CHARS = 2500
CONSOLE_LINES = 15
CONSOLE_CHARS = 800
ERROR_CHARS = 300
REPLY_CHARS = 3900
_CUT = ELLIPSIS


def to_outcome(outcome: Status | str) -> Status:
    """The final :class:`Status` named by ``outcome`` (a Status, its word, or the word in lower case).

    Raises ValueError for anything else, naming the choices.
    """
    for status in FINAL_STATUSES:
        if outcome == status or (isinstance(outcome, str) and outcome.lower() == status.value.lower()):
            return status
    words = ", ".join(OUTCOMES)
    raise ValueError(f"outcome must be one of {words} (or in lower case: {words.lower()}), not {outcome!r}")


def outcome_line(outcome: Status | str, elapsed: str, label: str = "", cause: str = "") -> str:
    """``":x: *Failed* after 0:03:12 · label"`` for one final status (Completed, Failed, ...);
    with ``cause``: ``":no_entry: *Terminated* by SIGTERM after 0:12:03 · label"``."""
    outcome = to_outcome(outcome)
    by = f" by {escape(cause)}" if cause else ""
    line = f"{_EMOJI[outcome]} *{outcome.value}*{by} {_PREPOSITION[outcome]} {escape(elapsed)}"
    if label:
        # A label is the user's text: escaped, and no backtick of it may open a code span.
        line += f" \u00b7 {inline_code_safe(escape(label))}"
    return line


def finish_reply(*, outcome: Status | str, elapsed: str, label: str = "", mentions: str = "") -> str:
    """The reply that notifies ``mentions`` (ready-made control sequences) how the run ended."""
    line = outcome_line(outcome, elapsed, label)
    return f"{mentions} {line}" if mentions else line


def failure_alert(
    *,
    elapsed: str,
    label: str = "",
    error: str | None = None,
    traceback_tail: str | None = None,
    console_tail: str | None = None,
    prefix: str = "",
    outcome: Status | str = Status.FAILED,
) -> str:
    """The failure alert: prefix, status line, error line, traceback tail, console tail.

    ``prefix`` is authored by the user (``<!here>``, an emoji) and is not escaped. For a
    Terminated ``outcome``, ``error`` is what ended the run (``"SIGTERM"``) and goes into the
    status line: ``"Terminated by SIGTERM after 0:12:03 · label"``.
    """
    outcome = to_outcome(outcome)
    terminated = outcome is Status.TERMINATED
    line = outcome_line(outcome, elapsed, label, cause=(error or "").strip() if terminated else "")
    parts = [f"{prefix} {line}" if prefix else line]
    if error and not terminated:
        parts.append(escape(_cut_end(error.strip(), ERROR_CHARS)))
    tb_lines, console_lines, tb_chars, console_chars = TRACEBACK_LINES, CONSOLE_LINES, TRACEBACK_CHARS, CONSOLE_CHARS
    while True:
        sections = _sections(traceback_tail, console_tail, tb_lines, tb_chars, console_lines, console_chars)
        text = "\n".join(parts + sections)
        if len(text) <= REPLY_CHARS or (tb_chars <= 200 and console_chars <= 200):
            return text if len(text) <= REPLY_CHARS else cut(text, REPLY_CHARS)
        tb_chars, console_chars = max(200, tb_chars * 3 // 4), max(200, console_chars * 3 // 4)


def _sections(traceback_tail, console_tail, tb_lines, tb_chars, console_lines, console_chars) -> list[str]:
    sections = []
    if traceback_tail and traceback_tail.strip():
        sections.append("Traceback (last lines):")
        sections.append(code_block(escaped_tail(traceback_tail, max_lines=tb_lines, max_chars=tb_chars)))
    if console_tail and console_tail.strip():
        sections.append("Console (last lines):")
        sections.append(code_block(escaped_tail(console_tail, max_lines=console_lines, max_chars=console_chars)))
    return sections


def wants_reply(alert: str, status: Status | str, *, iterations: int, min_iterations: int) -> bool:
    """Whether the end of a run with ``status`` sends a thread reply, under the ``alert`` option
    (failed, completed, all, none)."""
    if alert == "none":
        return False
    if status in ALERTED:
        # Quick debug crashes (ClearML's min-iterations filter) still say
        # Failed in the message, but ping nobody.
        return alert in ("failed", "all") and iterations >= min_iterations
    if status in (Status.COMPLETED, Status.STOPPED):
        # A stop is a person's decision that the run is done: told like a completion.
        return alert in ("completed", "all")
    return alert == "all"


def escaped_tail(text: str, *, max_lines: int, max_chars: int) -> str:
    """The last lines of ``text``, escaped for Slack, at most ``max_lines`` / ``max_chars``.

    Bounded after escaping (``&`` grows to five characters), cut at a line start where
    possible and marked with a leading ellipsis line when anything was dropped.
    """
    lines = text.rstrip("\n").splitlines()
    budget = max(1, max_chars - 2)  # room for the ellipsis line
    kept: list[str] = []
    used = 0
    dropped = False
    for line in reversed(lines):
        escaped = escape(line)
        cost = len(escaped) + (1 if kept else 0)
        if len(kept) >= max_lines or used + cost > budget:
            dropped = True
            if not kept:
                # A single huge last line: keep its end, cut on a raw character boundary
                # so no escape sequence is split.
                kept.append(_escaped_suffix(line, budget))
            break
        kept.append(escaped)
        used += cost
    body = "\n".join(reversed(kept))
    return f"{_CUT}\n{body}" if dropped and len(lines) > 1 else (f"{_CUT}{body}" if dropped else body)


def _escaped_suffix(line: str, budget: int) -> str:
    out: list[str] = []
    used = 0
    for char in reversed(line):
        escaped = escape(char)
        if used + len(escaped) > budget:
            break
        out.append(escaped)
        used += len(escaped)
    return "".join(reversed(out))


def _cut_end(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _CUT
