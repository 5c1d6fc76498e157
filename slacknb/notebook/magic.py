"""``%%slackreport``: report a notebook cell, and every Chainer training in it, to Slack.

``%load_ext slacknb`` registers :class:`SlackReportMagics`. Its pieces:

* the options: line, then ``c.SlackReportMagics.*`` config, then environment;
* the cell body, run the way ``%%time`` runs it (:class:`slacknb.notebook.cell.CellBody`);
* the trainer patch (:mod:`slacknb.frameworks.chainer_patch`) and the console tail
  (:mod:`slacknb.notebook.tail`) for the cell's duration;
* :class:`slacknb.notebook.cell.CellJob`, the report of a cell that no trainer reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Enum, Float, Int, List, Unicode

from slacknb.notebook.cell import CellBody, CellJob, make_cell_run
from slacknb.slack.config import resolve_config
from slacknb.core.context import default_label
from slacknb.notebook.tail import ConsoleTail
from slacknb.core.normalize import STRATEGIES
from slacknb.core.render import DEFAULT_MAX_BYTES, check_max_bytes
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED
from slacknb.run import ALERT_CHOICES
from slacknb.core.template import DEFAULT_TEMPLATE, Template

# Slack token shapes: bot, user, app-level and the rotating "xoxe." ones.
_TOKEN_VALUE = re.compile(r"(?i)(?<![A-Za-z0-9])(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9]")
_TOKEN_OPTION = re.compile(r"(?i)(?:^|\s)--?[\w-]*token(?![A-Za-z0-9])|token\s*=")
_ESCAPES = re.compile(r"\\([\\nt])")

TOKEN_REFUSED = (
    "%%slackreport does not take a Slack token: the magic line is saved in the notebook and in "
    "IPython's history, where anyone who gets either can read it. Set SLACK_BOT_TOKEN in the "
    "environment that starts Jupyter, or type it in a cell without saving it: "
    "import os, getpass; os.environ['SLACK_BOT_TOKEN'] = getpass.getpass('Slack bot token: '). "
    "If that was a real token, it is now in IPython's history file: revoke it and reinstall the "
    "Slack app to get a new one."
)


def refuse_secrets(line: str) -> None:
    """Raise UsageError if ``line`` holds a Slack token or a token option; never echoes it."""
    if _TOKEN_VALUE.search(line) or _TOKEN_OPTION.search(line):
        raise UsageError(TOKEN_REFUSED)


def _unquote(text: str) -> str:
    # IPython splits magic lines without removing quotes.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _decode_escapes(text: str) -> str:
    """``\\n``, ``\\t`` and ``\\\\`` in a one-line template become what they stand for."""
    return _ESCAPES.sub(lambda m: {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)], text)


def _flatten(groups) -> list:
    """``-e a b -e c,d`` -> ``[a, b, c, d]``."""
    return [item.strip() for group in groups for word in group for item in word.split(",") if item.strip()]


@dataclass(frozen=True)
class CellOptions:
    """The options of one ``%%slackreport`` cell, resolved and checked."""

    channel: str | None
    entries: list | None
    template: Template
    normalizer: str
    mentions: tuple
    max_bytes: int
    interval: float
    prefix: str
    min_iterations: int
    alert: str
    local: bool
    label: str
    flush_timeout: float
    base_url: str | None
    grace: float

    @property
    def slack_configured(self) -> bool:
        """True when a token and a channel are known and --local is off."""
        return not self.local and resolve_config(None, self.channel, base_url=self.base_url).complete


@magics_class
class SlackReportMagics(Magics):
    """The ``%%slackreport`` cell magic; every option has a config trait of the same name."""

    channel = Unicode(None, allow_none=True,
                      help="Slack channel ID or #name (else SLACK_CHANNEL_ID)").tag(config=True)
    entries = List(Unicode(), default_value=None, allow_none=True,
                   help="Log keys shown as columns (None: picked from the log)").tag(config=True)
    template = Unicode(DEFAULT_TEMPLATE, help="Message template ({status}, {content}, ...)").tag(config=True)
    normalizer = Enum(STRATEGIES, default_value="thin_out",
                      help="Which rows stay when the log outgrows the message").tag(config=True)
    mentions = List(Unicode(), default_value=[], help="Who the end-of-run reply mentions").tag(config=True)
    max_bytes = Int(DEFAULT_MAX_BYTES, help="Message size limit in UTF-8 bytes").tag(config=True)
    interval = Float(5.0, help="Minimum seconds between two edits of the Slack message").tag(config=True)
    prefix = Unicode("", help="Put in front of alerts, e.g. @here").tag(config=True)
    min_iterations = Int(0, help="No failure alert for runs that died before this many iterations").tag(config=True)
    alert = Enum(ALERT_CHOICES, default_value="all", help="Which endings send an alert reply").tag(config=True)
    local = Bool(False, help="Report in the notebook only, never to Slack").tag(config=True)
    label = Unicode("", help="Run label, shown by {label} and in alerts (default: the notebook's "
                    "name and a short run id)").tag(config=True)
    flush_timeout = Float(30.0, help="Seconds the end of a run waits for Slack").tag(config=True)
    base_url = Unicode(None, allow_none=True, help="Slack API URL (else SLACKNB_API_URL)").tag(config=True)
    grace = Float(10.0, help="Seconds a cell runs without a trainer before it is posted as a job").tag(config=True)

    @no_var_expand
    @magic_arguments()
    @argument("-c", "--channel", type=_unquote, help="Slack channel ID or #name.")
    @argument("-e", "--entries", nargs="+", action="append", type=_unquote,
              help="Log keys to show as columns (several, or comma-separated).")
    @argument("-t", "--template", type=_unquote, help="Message template; \\n is a new line.")
    @argument("-n", "--normalizer", choices=STRATEGIES, type=_unquote,
              help="Which rows stay when the log outgrows the message.")
    @argument("-m", "--mention", nargs="+", action="append", type=_unquote,
              help="Mention these users/groups when the run ends (@alice, U0123, @here; several).")
    @argument("--max-bytes", type=int, help="Message size limit in UTF-8 bytes (256 to 40000).")
    @argument("--interval", type=float, help="Minimum seconds between Slack edits.")
    @argument("--prefix", type=_unquote, help="Put in front of alerts, e.g. @here.")
    @argument("--min-iterations", type=int, metavar="N",
              help="No failure alert for a run that died before N iterations.")
    @argument("--alert", choices=ALERT_CHOICES, type=_unquote,
              help="Which endings send an alert reply.")
    @argument("--local", action="store_true", default=None, help="Notebook only: nothing goes to Slack.")
    @argument("--label", type=_unquote, help="Run label, shown by {label} and in alerts.")
    @argument("--flush-timeout", type=float, help="Seconds the end of a run waits for Slack.")
    @argument("--grace", type=float, help="Seconds before a cell without a trainer is posted as a job.")
    @cell_magic
    def slackreport(self, line: str, cell: str):
        """Report this cell to the notebook and to ONE Slack message, edited in place.

        Every ``chainer.training.Trainer.run`` in the cell gets a ``SlackReport``
        (and a ``LogReport`` if it has none), reporting on the LogReport's
        trigger, unless the trainer has a ``SlackReport`` already. A cell that
        trains nothing is reported as one job: Started, then Completed, Failed
        or Interrupted with its elapsed time. The body runs like ``%%time``
        runs it: in the user namespace, its last expression is the cell's
        value, and an exception or a KeyboardInterrupt fails the cell exactly
        as without the magic, after slacknb has reported it.

        Alerts
        ------
        ``--alert`` picks the endings that send a reply into the message's
        thread, with the mentions: ``all`` (the default: failed, completed and
        interrupted, since a stop may come from a culled kernel and not from
        you), ``failed``, ``completed`` or ``none``. A failure alert carries the
        error, the traceback's end and the last lines the cell printed, and
        starts with ``--prefix``. ``--min-iterations N`` keeps quiet about runs
        that died before N iterations (a typo, a shape error): the message still
        says Failed. A cell that ran no trainer counts 0 iterations.

        A cell that runs ``--grace`` seconds (default 10) without starting a
        trainer is posted to Slack as a job of its own right away; a shorter
        one is posted when it ends. Its ending is alerted once: not again when
        a trainer in the cell reported it already.

        Configuration
        -------------
        Each option falls back to the config trait of the same name (dashes
        become underscores; ``--mention`` is ``mentions``), e.g. in
        ``ipython_config.py`` or ``ipython_kernel_config.py``::

            c.SlackReportMagics.channel = "C0123ABCD"
            c.SlackReportMagics.mentions = ["@alice"]
            c.SlackReportMagics.base_url = "http://127.0.0.1:8765/api/"

        then to the environment: ``SLACK_CHANNEL_ID``, ``SLACKNB_API_URL``.
        The token comes only from ``SLACK_BOT_TOKEN`` (or ``SLACK_ACCESS_TOKEN``):
        a token on the magic line is refused, because the line is saved in the
        notebook and in the history. The line is not variable-expanded, so
        templates keep their ``{braces}``. Without token or channel, or with
        ``--local``, the report stays in the notebook.

        Examples
        --------
        ::

            %%slackreport -c C0123ABCD -e epoch main/loss main/accuracy -m @alice --prefix @here
            trainer.run()
        """
        __tracebackhide__ = True  # IPython hides this frame in the cell's traceback
        refuse_secrets(line)
        options = self.resolve(parse_argstring(self.slackreport, line))
        body = CellBody(self.shell, cell)  # a syntax error fails here, before anything is reported
        return run_reported(body, options)

    def resolve(self, args) -> CellOptions:
        """Line options over config traits; UsageError naming the fix for a bad value."""

        def pick(name):
            value = getattr(args, name, None)
            return getattr(self, name) if value is None else value

        entries = _flatten(args.entries) if args.entries else self.entries
        mentions = _flatten(args.mention) if args.mention else list(self.mentions)
        template = _decode_escapes(args.template) if args.template is not None else self.template
        options = dict(
            channel=pick("channel") or None,
            entries=list(entries) if entries else None,
            normalizer=pick("normalizer"),
            mentions=tuple(mentions),
            max_bytes=pick("max_bytes"),
            interval=pick("interval"),
            prefix=pick("prefix"),
            min_iterations=pick("min_iterations"),
            alert=pick("alert"),
            local=bool(pick("local")),
            label=pick("label"),
            flush_timeout=pick("flush_timeout"),
            base_url=pick("base_url") or None,
            grace=pick("grace"),
        )
        return check_options(template, options)


def check_options(template: str, values: dict) -> CellOptions:
    """Check every value before the cell runs: mistakes surface before training starts."""
    try:
        parsed = Template(template)
        check_max_bytes(values["max_bytes"])
        if values["normalizer"] not in STRATEGIES:
            raise ValueError(f"normalizer {values['normalizer']!r} is unknown; use one of: {', '.join(STRATEGIES)}")
        if values["alert"] not in ALERT_CHOICES:
            raise ValueError(f"alert {values['alert']!r} is unknown; use one of: {', '.join(ALERT_CHOICES)}")
        _at_least("--interval", values["interval"], 0, "seconds (default 5: ~12 edits a minute fit Slack's limit)")
        _at_least("--grace", values["grace"], 0, "seconds")
        _at_least("--min-iterations", values["min_iterations"], 0, "iterations")
        if not values["flush_timeout"] > 0:
            raise ValueError(f"--flush-timeout must be more than 0 seconds, not {values['flush_timeout']!r}")
        if not values["local"]:
            resolve_config(None, values["channel"], base_url=values["base_url"])  # channel and URL shape
    except ValueError as exc:
        raise UsageError(f"%%slackreport: {exc}") from None
    return CellOptions(template=parsed, **values)


def _at_least(name: str, value, low, unit: str) -> None:
    if not value >= low:
        raise ValueError(f"{name} must be {low} or more {unit}, not {value!r}")


def run_reported(body: CellBody, options: CellOptions):
    """Run ``body`` with the trainer patch and the console tail; report it; re-raise its error."""
    __tracebackhide__ = True
    from slacknb.frameworks.chainer import SlackReport
    from slacknb.frameworks.chainer_patch import TrainerPatch, attach_report

    tail = ConsoleTail()

    def make_report(log_report: str):
        return SlackReport(None, options.channel, options.entries, options.template,
                           finish_mentions=options.mentions, len_normalizer=options.normalizer,
                           log_report=log_report, max_bytes=options.max_bytes,
                           min_interval=options.interval, flush_timeout=options.flush_timeout,
                           base_url=options.base_url, alert_prefix=options.prefix, alert=options.alert,
                           min_iterations=options.min_iterations, label=options.label or None,
                           local=options.local, console_tail=tail.text)

    patch = TrainerPatch(lambda trainer: attach_report(trainer, make_report, report_type=SlackReport))
    job_label = options.label or default_label()
    job = CellJob(lambda views: make_cell_run(options, views, label=job_label), label=job_label,
                  grace=options.grace, early=options.slack_configured,
                  has_trainers=lambda: bool(patch.trainers))
    status, error = COMPLETED, None
    try:
        with tail, patch:
            return body.run()
    except KeyboardInterrupt as exc:
        status, error = INTERRUPTED, _without_own_frames(exc)
        raise
    except BaseException as exc:
        status, error = FAILED, _without_own_frames(exc)
        raise
    finally:
        reported = bool(patch.trainers) and (status == COMPLETED or patch.raised(error))
        job.end(status, error=error, console_tail=tail.text(), reported=reported, iterations=patch.iterations)


_OWN_MODULES = (__name__, "slacknb.notebook.cell")


def _without_own_frames(exc: BaseException) -> BaseException:
    """``exc`` with the magic's own frames cut from the front of its traceback.

    The failure alert shows the traceback's end: it should be the cell's, not ours.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "") in _OWN_MODULES:
        tb = tb.tb_next
    if tb is not None:
        exc.__traceback__ = tb
    return exc
