"""A local Slack-compatible server for tests and offline demos."""
