"""``from slacknb.optuna import SlackBoard``: an Optuna study on one live Slack board (needs ``slacknb[optuna]``)."""

from .frameworks.optuna import SlackBoard

__all__ = ["SlackBoard"]
