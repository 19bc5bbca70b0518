"""`SlackSandbox`: the Slack stand-in as one object to serve, inspect and click."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from selfheal_lab.sandbox.control import RequestCounter, ServedStandIn
from selfheal_lab.sandbox.github.faults import Faults
from selfheal_lab.sandbox.slack.app import Click, create_app, interaction_payload, signed_request
from selfheal_lab.sandbox.slack.state import (
    BOT_TOKEN,
    CHANNEL_ID,
    Message,
    SlackState,
    SlackUser,
)

DEMO_USERS = (
    SlackUser("U024BE7LH", "alice", "alice@example.com", "Alice Approver"),
    SlackUser("U0BOB0001", "bob", "bob@example.com", "Bob Builder"),
    SlackUser("U0MALLORY", "mallory", "mallory@example.com", "Mallory Outsider"),
)
"""The sandbox's members: alice approves in the demo; mallory is on no approver list."""


class SlackSandbox(ServedStandIn):
    """A Slack Web API stand-in with one channel (#incidents, `C0INCIDENTS`) and one bot token.

    slack_sdk's `WebClient(token=BOT_TOKEN, base_url=f"{url}/api/")` talks to it. `click`
    (or `POST /sandbox/v1/click`) presses a button as a member, exactly as Slack would: the
    `block_actions` payload, form-encoded and signed with `signing_secret`, to
    `interactions_url`.
    """

    name = "Slack"
    token = BOT_TOKEN
    channel = CHANNEL_ID

    def __init__(
        self, *, interactions_url: str | None = None, signing_secret: str | None = None
    ) -> None:
        self.state = SlackState()
        for user in DEMO_USERS:
            self.state.add_user(user)
        self.faults = Faults()
        self.requests = RequestCounter()
        self.app: FastAPI = create_app(self.state, self.faults)
        self.configure(interactions_url, signing_secret)

    def configure(self, interactions_url: str | None, signing_secret: str | None) -> None:
        """Where clicks go and the secret they are signed with (the app's settings)."""
        self.app.state.interactions_url = interactions_url
        self.app.state.signing_secret = signing_secret

    @property
    def api_url(self) -> str:
        """The base URL for slack_sdk (SLACK_API_URL)."""
        return f"{self.url}/api/"

    def messages(self, channel: str = CHANNEL_ID) -> list[Message]:
        """Every top-level message of a channel, oldest first."""
        return self.state.top_level(channel)

    def thread(self, message: Message) -> list[Message]:
        """A message's replies, oldest first."""
        return self.state.thread(message.channel, message.ts)[1:]

    def signed_click(self, click: Click) -> tuple[bytes, dict[str, str]]:
        """The signed request Slack would send for `click` (for tests that post it themselves)."""
        secret = self.app.state.signing_secret
        if not secret:
            raise RuntimeError("the Slack sandbox has no signing secret configured")
        return signed_request(secret, self.payload(click))

    def payload(self, click: Click) -> dict[str, Any]:
        """The `block_actions` payload of `click`."""
        return interaction_payload(self.state, click)
