"""slacknb: live Chainer training reports in Jupyter, mirrored to one edited Slack message.

Public names:

- ``SlackReport``: the Chainer trainer extension (drop-in for chainer-slack-report's);
- ``%load_ext slacknb`` registers the ``%%slackreport`` cell magic;
- ``slacknb.testing.SlackServer``: a local Slack-compatible server for offline use.
"""

__version__ = "0.1.0"
__all__ = ["SlackReport", "load_ipython_extension", "__version__"]


def __getattr__(name):
    # Chainer takes a second to import: only pay for it when it is used.
    if name == "SlackReport":
        from .extension import SlackReport

        return SlackReport
    raise AttributeError(f"module 'slacknb' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """``%load_ext slacknb``: register the ``%%slackreport`` cell magic."""
    from .magic import SlackReportMagics

    ipython.register_magics(SlackReportMagics)
