"""A Slack Web API stand-in for slack_sdk: messages, threads, users, and signed button clicks."""

from selfheal_lab.sandbox.slack.sandbox import SlackSandbox
from selfheal_lab.sandbox.slack.state import Message, SlackUser

__all__ = ["Message", "SlackSandbox", "SlackUser"]
