"""Log values an adversarial but fair user can log, for the renderer's and the views' tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from slacknb.core.template import FIELDS

BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef"
WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


class RaisingStr:
    """Its str(), repr() and format() all raise."""

    def __str__(self):
        raise RuntimeError("no text for you")

    __repr__ = __str__

    def __format__(self, spec):
        raise RuntimeError("no format for you")


class RaisingNumber(RaisingStr):
    """Looks like a numpy scalar (``item``) and a number (``__float__``), and every one raises."""

    def item(self):
        raise RuntimeError("no item")

    def __float__(self):
        raise RuntimeError("no float")


SURROGATE = "\ud800"

HOSTILE = (
    SURROGATE, "ok\udcffend", RaisingStr(), RaisingNumber(), "x" * 100_000, np.arange(1000), np.float32(0.5),
    np.int64(3), 10 ** 5000, "<!channel>", "<@U123>", "<!here|here>", "```", "`", "line\nbreak\r\ttab",
    BOT, APP, WEBHOOK, f"token={BOT}", float("nan"), float("inf"), None, True, {"a": 1}, b"bytes",
)

# What a log value can be: the hostile ones, numbers, and any text (surrogates included).
values = st.one_of(st.sampled_from(HOSTILE), st.floats(), st.integers(), st.text(max_size=60),
                   st.text(st.sampled_from("<>&@!`x\n" + SURROGATE), max_size=20),
                   st.builds(lambda a, b: a + b, st.sampled_from(["", "a ", "<"]), st.sampled_from([BOT, APP, WEBHOOK])))

# Printable templates: literal text (no '<', '>' or '&', so that every control sequence in a
# rendered message comes from a value or from slacknb), braces doubled or not, and fields
# with conversions and specs. Not all are accepted: tests keep the ones Template accepts.
_SPEC = st.one_of(st.just(""), st.from_regex(r"\A:(.?[<>^])?\d{0,4}(\.\d{0,4})?s?\Z"))
_FIELD = st.builds(lambda name, conversion, spec: "{" + name + conversion + spec + "}",
                   st.sampled_from([*FIELDS, "gpu"]), st.sampled_from(["", "!r", "!s", "!a"]), _SPEC)
_LITERAL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&"), max_size=6)
templates = st.lists(st.one_of(_FIELD, _LITERAL, st.sampled_from(["{{", "}}", "{", "}", ":", "\n", "```", "`"])),
                     max_size=10).map("".join)
