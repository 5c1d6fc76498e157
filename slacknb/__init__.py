"""slacknb: live Chainer and PyTorch (ppe) training reports in Jupyter, mirrored to one edited Slack message.

Public names:

- ``SlackReport``: the Chainer trainer extension (drop-in for chainer-slack-report's);
- ``SlackMirrorWarning``: the warning category of everything slacknb says about Slack;
- ``%load_ext slacknb`` registers the ``%%slackreport`` cell magic;
- ``slacknb.testing.SlackServer``: a local Slack-compatible server for offline use.
"""

__version__ = "0.1.0"
__all__ = ["SlackMirrorWarning", "SlackReport", "load_ipython_extension", "__version__"]


def __getattr__(name):
    # Chainer takes a second to import: only pay for it when it is used.
    if name == "SlackReport":
        from slacknb.frameworks.chainer import SlackReport

        return SlackReport
    if name == "SlackMirrorWarning":
        from slacknb.slack.mirror import SlackMirrorWarning

        return SlackMirrorWarning
    raise AttributeError(f"module 'slacknb' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """``%load_ext slacknb``: register the ``%%slackreport`` cell magic."""
    from slacknb.notebook.magic import SlackReportMagics

    ipython.register_magics(SlackReportMagics)
