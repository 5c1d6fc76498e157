"""All Slack I/O, one way: mirror -> outbox worker -> message -> slack_sdk."""
