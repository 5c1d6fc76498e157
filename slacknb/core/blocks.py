"""The report as Block Kit blocks, with a Stop button under it (pure).

A message with blocks shows the blocks, and its ``text`` is only the notification
preview. So the report goes into section blocks that read exactly as the text does:
Block Kit allows 3,000 characters of section text, and a report may use 4,000 bytes,
so a long report is split at line ends into several sections; a code block cut by the
split is closed at the end of one section and reopened at the start of the next.
"""

from __future__ import annotations

__all__ = ["SECTION_CHARS", "STOP_ACTION_ID", "report_blocks", "split_sections", "stop_actions"]

#: Block Kit's limit for a section block's text.
SECTION_CHARS = 3000
#: The action_id of the Stop button; its value is the run's stream id.
STOP_ACTION_ID = "slacknb_stop"
_FENCE = "```"


def split_sections(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends (a line
    longer than a piece is cut itself); a code block open at a cut is closed at the end
    of one piece and reopened at the start of the next."""
    if limit < 16:
        raise ValueError(f"limit must be at least 16 characters, not {limit}")
    reserve = len("\n" + _FENCE)  # room to close a code block at any cut
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    content = 0  # lines of the text in the piece being built (a reopening fence is not one)
    fenced = False  # a code block is open after the lines so far
    for line in text.split("\n"):
        toggles = line.count(_FENCE) % 2 == 1
        while True:
            cost = len(line) + (1 if lines else 0)
            if size + cost + reserve <= limit:
                lines.append(line)
                size += cost
                content += 1
                break
            if content == 0:
                room = limit - reserve - size - (1 if lines else 0)
                lines.append(line[:room])
                line = line[room:]
            pieces.append("\n".join(lines) + ("\n" + _FENCE if fenced else ""))
            lines = [_FENCE] if fenced else []
            size = len(_FENCE) if fenced else 0
            content = 0
        fenced ^= toggles
    if content:
        pieces.append("\n".join(lines))
    return [piece for piece in pieces if piece.strip()]


def stop_actions(stream_id: str) -> dict:
    """The actions block holding the Stop button (with a confirmation, so a stray tap
    on a phone stops nothing)."""
    return {
        "type": "actions",
        "block_id": STOP_ACTION_ID,
        "elements": [{
            "type": "button",
            "action_id": STOP_ACTION_ID,
            "value": stream_id,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Stop"},
            "confirm": {
                "title": {"type": "plain_text", "text": "Stop this run?"},
                "text": {"type": "mrkdwn",
                         "text": "Training stops after the current iteration; its finalizers still run."},
                "confirm": {"type": "plain_text", "text": "Stop"},
                "deny": {"type": "plain_text", "text": "Keep training"},
                "style": "danger",
            },
        }],
    }


def report_blocks(text: str, stream_id: str) -> list[dict]:
    """Section blocks that read as ``text``, then the Stop button."""
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in split_sections(text)]
    return sections + [stop_actions(stream_id)]
