"""``%%slackreport``: report a notebook cell, and every Chainer or ppe training in it, to Slack.

``%load_ext slacknb`` registers :class:`SlackReportMagics`. Its pieces:

* the options: line, then ``c.SlackReportMagics.*`` config, then environment
  (:mod:`slacknb.notebook.line`, from :mod:`slacknb.options`);
* the cell body, run the way ``%%time`` runs it (:class:`slacknb.notebook.cell.CellBody`);
* the framework patches (:mod:`slacknb.frameworks.cell_patches`: Chainer's and ppe's)
  and the console tail (:mod:`slacknb.notebook.tail`) for the cell's duration;
* :class:`slacknb.notebook.cell.CellJob`, the report of a cell that no trainer reported.
"""

from __future__ import annotations

from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import parse_argstring

from slacknb.core.context import default_label
from slacknb.core.outcome import Ending
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED, TERMINATED
from slacknb.frameworks.signals import SignalWatch
from slacknb.notebook.cell import CellBody, CellJob, make_cell_run
from slacknb.notebook.line import arguments, refuse_secrets, resolve, traits
from slacknb.notebook.tail import ConsoleTail
from slacknb.options import ReportOptions, slack_configured

__all__ = ["SlackReportMagics", "run_reported"]


@magics_class
class SlackReportMagics(Magics):
    """The ``%%slackreport`` cell magic; its flags and config traits come from :mod:`slacknb.options`."""

    # One config trait per option (slacknb.options), e.g. c.SlackReportMagics.interval = 1.0.
    locals().update(traits())

    @no_var_expand
    @arguments
    @cell_magic
    def slackreport(self, line: str, cell: str):
        """Report this cell to the notebook and to ONE Slack message, edited in place.

        Every ``chainer.training.Trainer.run`` in the cell, and every ppe
        ``ExtensionsManager`` that starts training in it (``Trainer.run`` or a
        hand-written loop), gets a ``SlackReport`` (and a ``LogReport`` if it
        has none), reporting on the LogReport's trigger, unless it has a
        ``SlackReport`` already. A cell that
        trains nothing is reported as one job: Started, then Completed, Failed,
        Interrupted or Terminated (SIGTERM, SIGHUP) with its elapsed time. The body runs like ``%%time``
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
        Each option falls back to its config trait, named as the first long
        flag with dashes as underscores (``--mention`` is ``mentions``), e.g. in
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
        options = resolve(self, parse_argstring(self.slackreport, line))
        body = CellBody(self.shell, cell)  # a syntax error fails here, before anything is reported
        return run_reported(body, options)


def run_reported(body: CellBody, options: ReportOptions):
    """Run ``body`` with the trainer patch and the console tail; report it; re-raise its error."""
    __tracebackhide__ = True
    from slacknb.frameworks.cell_patches import CellPatches

    tail = ConsoleTail()
    patch = CellPatches(options, console_tail=tail.text)
    job_label = default_label() if options.label is None else options.label
    job = CellJob(lambda views: make_cell_run(options, views, label=job_label), label=job_label,
                  grace=options.grace, early=slack_configured(options),
                  has_trainers=lambda: bool(patch.trainers))
    # SIGTERM or SIGHUP (a server shutting the kernel down): the job ends as Terminated; the
    # trainers' own reports end theirs.
    signals = SignalWatch(lambda name: job.end(Ending(TERMINATED, console_tail=tail.text(), alert=not patch.trainers,
                                                      cause=name),
                                               reported=bool(patch.trainers), iterations=patch.iterations),
                          job.wait_delivered, bound=options.delivery_timeout).start()
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
        signals.stop()
        reported = bool(patch.trainers) and (status == COMPLETED or patch.raised(error))
        job.end(Ending(status, error=error, console_tail=tail.text(), alert=not reported), reported=reported,
                iterations=patch.iterations)


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
