"""Every report option, declared once: name, default, check and help.

The extension's keywords (:class:`slacknb.SlackReport`), the ``%%slackreport`` flags and
its ``c.SlackReportMagics.*`` config traits, and the README's configuration table are all
derived from :data:`OPTIONS`, so adding an option is one entry here. Names stay as users
already write them: where the magic's flag or trait was named differently from the
extension's keyword (``--interval`` for ``min_interval``), the entry says so.

:func:`check` turns keywords into a checked, frozen :class:`ReportOptions` (TypeError or
ValueError naming the fix, at construction, before anything trains).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any, Callable

from slacknb.core.series import check_plot
from slacknb.core.normalize import STRATEGIES, check_strategy
from slacknb.core.render import DEFAULT_MAX_BYTES, check_max_bytes
from slacknb.core.scrub import Scrubber, check_patterns, looks_like_token
from slacknb.core.template import DEFAULT_TEMPLATE, Template
from slacknb.core.mentions import parse_mentions
from slacknb.slack.config import CHANNEL_ENV_VAR, MAX_SECONDS, SlackSettings, check_seconds

__all__ = [
    "ALERT_CHOICES", "BOARD_OPTIONS", "MAX_SECONDS", "OPTIONS", "Option", "ReportOptions", "check", "check_alert",
    "check_board", "parameters_doc", "readme_table", "scrubber", "slack_configured",
]

ALERT_CHOICES = ("failed", "completed", "all", "none")
# The longest any duration option may be: a day. More is a mistake (seconds taken for
# milliseconds, 1e10), and stays far below what waits accept (threading.TIMEOUT_MAX is
# 49 days on Windows; beyond it a wait raises OverflowError mid-run).
# -- checks: each returns the value to keep, or raises naming the fix ----------------------------

def _seconds(name: str, *, zero: bool = True, most: float = MAX_SECONDS) -> Callable[[Any], float]:
    """The check of a duration option: a real number of seconds from 0 (or more than 0) to ``most``."""
    return lambda value: check_seconds(name, value, allow_zero=zero, most=most)


def _optional_seconds(name: str) -> Callable[[Any], float | None]:
    seconds = _seconds(name)

    def check_optional_seconds(value):
        return None if value is None else seconds(value)

    return check_optional_seconds


def _count(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"min_iterations must be a whole number >= 0, not {value!r}")
    return int(value)


def _utf8(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} holds a character UTF-8 cannot encode (a lone surrogate) at position "
                         f"{exc.start}: Slack only takes UTF-8, remove it") from None
    return value


def _text(name: str) -> Callable[[Any], str]:
    def check_text(value):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        return _utf8(name, value)

    return check_text


def _entries(value):
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(e, str) for e in value):
        raise TypeError("entries must be a list of observation keys such as "
                        "['epoch', 'main/loss'], or None to pick them from the log")
    return tuple(value)


def _template(value):
    return value if isinstance(value, Template) else Template(value)


def check_alert(value):
    if value not in ALERT_CHOICES:
        raise ValueError(f"alert={value!r} is unknown; use one of: " + ", ".join(ALERT_CHOICES))
    return value


def _mentions(value):
    return parse_mentions(value or None)  # TypeError for anything but text or a list of text


_STOP_FIX = ("name who may stop the run: stop_allowed=['@alice', 'bob@example.com', 'U0123'] "
             "(user IDs, @names or e-mails), or put people in finish_mentions")


def _stop_allowed(value):
    if value is None:
        return None
    mentions = parse_mentions(value)  # TypeError for anything but text or a list of text
    others = [m.raw for m in mentions if m.kind in ("group", "special")]
    if others:
        raise ValueError(f"stop_allowed takes people, not {', '.join(others)}: {_STOP_FIX}")
    return mentions


def _label(value):
    if value is not None and not isinstance(value, str):
        raise TypeError(f"label must be a string (\"\" for none) or None for the default, not {type(value).__name__}")
    return value if value is None else _utf8("label", value)


def _optional_text(name: str) -> Callable[[Any], str | None]:
    def check_optional(value):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a string or None, not {type(value).__name__}")
        return _utf8(name, value) if value else None

    return check_optional


# The arguments of SlackReport(access_token, channel_id, ...) swapped would put the token where
# the channel goes, and the channel shows in reprs and errors: refused, never echoed.
def _token_where_channel(where: str) -> ValueError:
    return ValueError(
        f"{where} looks like a Slack token (xoxb-..., xapp-...), not a channel: the token goes first, "
        "SlackReport(access_token, channel_id, ...), or better in SLACK_BOT_TOKEN, and the channel is an ID "
        "like 'C0123ABCD' or a name like '#training'. If this token was shown or saved anywhere, revoke it.")


def _channel(value):
    value = _optional_text("channel_id")(value)
    if value is not None and looks_like_token(value):
        raise _token_where_channel("channel_id")
    return value


def _as_is(value):
    return value


def _trial(value):
    # Duck-typed: options never import Optuna. A FrozenTrial (a callback's) has no study.
    if value is not None and not (isinstance(getattr(value, "number", None), int) and hasattr(value, "study")
                                  and callable(getattr(value, "set_user_attr", None))):
        raise TypeError("trial must be the optuna.Trial your objective receives (objective(trial) -> "
                        f"SlackReport(..., trial=trial)), not {type(value).__name__}")
    return value


# -- the declarations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One option. ``flags`` are the magic's (none: not on the magic line); ``trait`` the
    config trait's name (None: none); ``kind`` how the flag and the trait parse values."""

    name: str
    default: Any
    check: Callable[[Any], Any]
    help: str
    flags: tuple[str, ...] = ()
    trait: str | None = None
    kind: str = "str"  # str, float, int, bool, list, choice
    choices: tuple[str, ...] = ()
    shown_default: str = ""  # the README's default column, when repr(default) says it badly
    trait_default: Any = field(default=None)


OPTIONS: tuple[Option, ...] = (
    Option("access_token", None, _optional_text("access_token"),
           "Bot token (xoxb-...), else SLACK_BOT_TOKEN, else SLACK_ACCESS_TOKEN; never on the magic line",
           shown_default="none: local only"),
    Option("channel_id", None, _channel, "Slack channel ID or #name, else SLACK_CHANNEL_ID",
           flags=("-c", "--channel"), trait="channel",
           shown_default="none: local only"),
    Option("entries", None, _entries, "Log keys shown as columns (several, or comma-separated)",
           flags=("-e", "--entries"), trait="entries", kind="list",
           shown_default="`None`: epoch, iteration, main/\\*, validation/\\*, the rest, elapsed_time last"),
    Option("template", DEFAULT_TEMPLATE, _template, "str.format_map template, placeholders below (on the magic line \\n is a new line)",
           flags=("-t", "--template"), trait="template",
           shown_default="``" + DEFAULT_TEMPLATE.replace("\n", "\\n") + "``"),
    Option("finish_mentions", (), _mentions,
           "Who the end-of-run reply mentions: user IDs, @name, e-mail, @here/@channel/@everyone, user-group IDs S... (several)",
           flags=("-m", "--mention"), trait="mentions", kind="list", shown_default="none"),
    Option("len_normalizer", "thin_out", check_strategy, "thin_out, fifo or lifo (any case): which rows stay when the log outgrows the message",
           flags=("-n", "--normalizer", "--len-normalizer"), trait="normalizer", kind="choice", choices=STRATEGIES),
    Option("log_report", "LogReport", _as_is, "Name of the LogReport extension, or a LogReport"),
    Option("max_bytes", DEFAULT_MAX_BYTES, check_max_bytes,
           "UTF-8 bytes the whole message may take; 256 to 40,000 (4000 is Slack's limit for edited messages)",
           flags=("--max-bytes",), trait="max_bytes", kind="int"),
    Option("min_interval", None, _optional_seconds("min_interval / --interval"),
           "Minimum seconds between two edits of the Slack message (a number fixes it; at most 86,400)",
           shown_default="`None`: automatic, about 1 s for a run alone, longer as more runs of the app are "
                         "active on the machine, so that together they fit chat.update's ~50/min",
           flags=("--interval", "--min-interval"), trait="interval", kind="float"),
    Option("flush_timeout", 0.0, _seconds("flush_timeout / --flush-timeout"),
           "Seconds the end of a run waits on purpose for Slack; the delivery goes on in the background anyway "
           "(at most 86,400)",
           flags=("--flush-timeout",), trait="flush_timeout", kind="float"),
    Option("delivery_timeout", 120.0, _seconds("delivery_timeout / --delivery-timeout", zero=False),
           "Hard bound: seconds after the end of a run that what flush_timeout did not see arrive is still "
           "delivered in the background (and the process waits for at exit); at most 86,400",
           flags=("--delivery-timeout",), trait="delivery_timeout", kind="float"),
    Option("base_url", None, _optional_text("base_url"), "Slack API URL, else SLACKNB_API_URL (config only on the magic)",
           trait="base_url",
           shown_default="`https://slack.com/api/`"),
    Option("alert_prefix", "", _text("alert_prefix"), "Put in front of alerts, e.g. @here",
           flags=("--prefix", "--alert-prefix"), trait="prefix", shown_default="none"),
    Option("alert", "all", check_alert, "Which endings send a thread reply: failed, completed, all, none",
           flags=("--alert",), trait="alert", kind="choice", choices=ALERT_CHOICES),
    Option("min_iterations", 0, _count, "No failure alert for runs that died before this many iterations "
           "(the message still says Failed)", flags=("--min-iterations",), trait="min_iterations", kind="int"),
    Option("label", None, _label, "Run label: {label}, and the end-of-run replies (\"\" for none)",
           flags=("--label",), trait="label", trait_default="",
           shown_default="notebook or script name and a short run id, e.g. `train-3f9a1c`"),
    Option("plot", None, check_plot, "Log keys the chart draws (in the widget, and in the thread at the end); "
           "keys sharing a last part (main/loss, validation/main/loss) share a panel; [] (--plot '') for no chart",
           flags=("--plot",), trait="plot", kind="list",
           shown_default="`None`: every \\*/loss, every \\*/accuracy"),
    Option("local", False, bool, "Report locally only, never to Slack", flags=("--local",), trait="local",
           kind="bool"),
    Option("stop_button", False, bool, "A Stop button under the report in Slack, for the people in stop_allowed: "
           "the run ends after the current iteration, as Stopped (needs SLACK_APP_TOKEN, Socket Mode and "
           "Interactivity in the app)", flags=("--stop-button",), trait="stop_button", kind="bool"),
    Option("stop_allowed", None, _stop_allowed, "Who may press Slack's Stop button: user IDs, @name, e-mail (several)",
           flags=("--stop-allowed",), trait="stop_allowed", kind="list", shown_default="the people in finish_mentions"),
    Option("stall_after", None, _optional_seconds("stall_after / --stall-after"),
           "Seconds without an iteration after which the message reads Stalled and one thread reply, with where "
           "the training thread is, notifies the finish_mentions people; 0 turns it off, a number fixes it "
           "(at most 86,400)",
           flags=("--stall-after",), trait="stall_after", kind="float",
           shown_default="`None`: automatic, 10 times the longest interval between two iterations seen so far, "
                         "and at least 5 minutes"),
    Option("grace", 10.0, _seconds("grace / --grace"), "Seconds a cell runs without a trainer before it is posted as a job "
           "(magic only; at most 86,400)", flags=("--grace",), trait="grace", kind="float"),
    Option("comm", None, _as_is, "A ChainerMN communicator: only rank 0 reports (extension only; slacknb.ppe uses "
           "torch.distributed's default group when one is initialised)",
           shown_default="none: the launcher's rank variables decide"),
    Option("hide", (), check_patterns, "Regular expressions whose matches are shown and sent as [hidden], besides "
           "the tokens, token-shaped text, webhook URLs and secret-named arguments always hidden (one per --hide word)",
           flags=("--hide",), trait="hide", kind="list", shown_default="none"),
    Option("trial", None, _trial, "An Optuna trial (in the objective): the report is a reply in the thread of the "
           "study's board (slacknb.optuna.SlackBoard), and its row on the board follows it (extension only)",
           shown_default="none: a message of its own"),
)

BY_NAME = {option.name: option for option in OPTIONS}
# A cell without a trainer is reported as a job: the grace before it is posted is the magic's only.
MAGIC_ONLY = ("grace",)

ReportOptions = make_dataclass(
    "ReportOptions", [(option.name, Any, field(default=option.default)) for option in OPTIONS]
    + [("slack", Any, field(default=None))], frozen=True)
ReportOptions.__doc__ = ("Every option of one report, checked (see :data:`OPTIONS`), and ``slack``: the Slack "
                         "settings they resolve to (once); never shown with its token.")


def _shown(name: str, value) -> str:
    if name == "access_token" and value:
        return "[hidden]"
    if name == "hide" and value:
        return f"[{len(value)} hidden]"  # a pattern may spell out what it hides
    return repr(value)


ReportOptions.__repr__ = lambda self: "ReportOptions(" + ", ".join(
    f"{f.name}={_shown(f.name, getattr(self, f.name))}" for f in fields(self) if f.name != "slack") + ")"


def check(**values) -> ReportOptions:
    """A checked :class:`ReportOptions` from keywords (defaults for the others).

    Raises TypeError or ValueError naming the fix; a channel with spaces or a malformed
    API URL is refused here too, unless ``local``.
    """
    unknown = set(values) - set(BY_NAME)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}; known: {', '.join(BY_NAME)}")
    checked = {o.name: o.check(values.get(o.name, o.default)) for o in OPTIONS}
    # The Slack settings, resolved once for the report (arguments, then the environment).
    settings = SlackSettings.resolve(
        checked["access_token"], checked["channel_id"], base_url=checked["base_url"],
        mentions=checked["finish_mentions"], stop_allowed=checked["stop_allowed"],
        stop_button=checked["stop_button"], alert_prefix=checked["alert_prefix"],
        min_interval=checked["min_interval"], flush_timeout=checked["flush_timeout"],
        delivery_timeout=checked["delivery_timeout"], local=checked["local"], hide=checked["hide"])
    if settings.config.channel_source == CHANNEL_ENV_VAR and looks_like_token(settings.channel):
        raise _token_where_channel(CHANNEL_ENV_VAR)
    if checked["stop_button"] and not settings.stop_allowed:
        raise ValueError(f"stop_button=True, but nobody may press it: {_STOP_FIX}")
    return ReportOptions(**checked, slack=settings)


def scrubber(options: ReportOptions) -> Scrubber:
    """The run's one scrub, resolved with its Slack settings: every configured token and the
    ``hide`` patterns, on top of the shapes always hidden (see :mod:`slacknb.core.scrub`)."""
    return options.slack.scrub


# The options that apply to a study's board (slacknb.optuna.SlackBoard).
BOARD_OPTIONS = ("access_token", "channel_id", "finish_mentions", "max_bytes", "min_interval", "base_url", "label",
                 "alert_prefix", "local", "delivery_timeout", "hide")


def check_board(**values) -> ReportOptions:
    """A checked :class:`ReportOptions` for a study's board: only :data:`BOARD_OPTIONS` may be given."""
    unknown = set(values) - set(BOARD_OPTIONS)
    if unknown:
        raise TypeError(f"SlackBoard has no option {', '.join(sorted(unknown))}; "
                        f"a board takes: {', '.join(BOARD_OPTIONS)}")
    return check(**values)


def slack_configured(options: ReportOptions) -> bool:
    """True when a token and a channel are known (arguments or environment) and local is off."""
    return not options.local and options.slack.config.complete


def readme_table() -> str:
    """The README's configuration table, made from :data:`OPTIONS` (a test keeps them equal)."""
    lines = ["| keyword | `%%slackreport` flag | config trait | default | what it does |", "|---|---|---|---|---|"]
    for option in OPTIONS:
        flags = " ".join(f"`{flag}`" for flag in option.flags) or "-"
        trait = f"`{option.trait}`" if option.trait else "-"
        default = option.shown_default or f"`{option.default!r}`"
        lines.append(f"| `{option.name}` | {flags} | {trait} | {default} | {option.help.replace('|', '/')} |")
    return "\n".join(lines)


def parameters_doc() -> str:
    """The keyword options as a numpy-style ``Parameters`` list, for the extensions' docstrings."""
    lines = []
    for option in OPTIONS:
        default = option.shown_default.replace("`", "") or repr(option.default)
        lines += [f"{option.name} : default {default}", f"    {option.help}."]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m slacknb.options: the README's configuration table
    print(readme_table())
