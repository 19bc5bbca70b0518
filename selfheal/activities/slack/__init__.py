"""Slack: the decision message of each incident (activities) and the chat calls behind it."""
