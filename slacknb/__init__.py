"""slacknb: live Chainer training reports in Jupyter, mirrored to one Slack message."""
