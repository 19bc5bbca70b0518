"""The Slack stand-in seen from another process: its messages and threads, and clicks.

A client of the control routes (`GET /sandbox/v1/messages`, `POST /sandbox/v1/click`) for
the demo and the e2e tests, which run beside the sandbox rather than inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from selfheal_lab.sandbox.slack.sandbox import DEMO_USERS

DECISION_EVENT = "selfheal_decision"
"""The metadata event type of selfheal's decision messages (activities/slack/chat.py)."""


def member(name: str) -> str:
    """The Slack user id of a sandbox member by name (`alice`, `bob`, `mallory`)."""
    for user in DEMO_USERS:
        if user.name == name:
            return user.id
    raise KeyError(f"no sandbox Slack member {name!r}")


@dataclass(frozen=True)
class PostedMessage:
    """A top-level message as the control route lists it, with its thread's replies."""

    ts: str
    text: str
    blocks: list[dict[str, Any]]
    replies: list[str]
    edited: bool
    incident_id: str | None
    attempt: int | None

    @property
    def buttons(self) -> list[str]:
        """The action ids of the message's buttons (none once the decision is over)."""
        return [
            element["action_id"]
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]

    @property
    def proposal(self) -> str | None:
        """The proposal digest the message's fix section names, if it shows one."""
        for block in self.blocks:
            text = (block.get("text") or {}).get("text", "")
            marker = "proposal `"
            if marker in text:
                return str(text.split(marker, 1)[1].split("`", 1)[0])
        return None


@dataclass(frozen=True)
class ClickAnswer:
    """What became of a click: delivered to the webhook, its status and selfheal's answer."""

    delivered: bool
    status: int | None
    answer: dict[str, Any]
    error: str = ""

    @property
    def decided(self) -> bool:
        return bool(self.answer.get("decided"))

    @property
    def note(self) -> str:
        return str(self.answer.get("note") or self.error)


class SlackControl:
    """The Slack stand-in's control routes at `url` (stack.json's `slack.url`)."""

    def __init__(self, url: str, timeout: float = 15) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def messages(self) -> list[PostedMessage]:
        """Every top-level message of the channel, oldest first, with its replies."""
        answer = httpx.get(f"{self.url}/sandbox/v1/messages", timeout=self.timeout)
        answer.raise_for_status()
        return [_posted(raw) for raw in answer.json()["messages"]]

    def decision_messages(self, incident_id: str) -> list[PostedMessage]:
        """The decision messages selfheal posted about `incident_id` (one per attempt)."""
        return [m for m in self.messages() if m.incident_id == incident_id]

    def click(self, user: str, action_id: str, ts: str) -> ClickAnswer:
        """Click a message's button as Slack user id `user`: signed and posted to the webhook."""
        answer = httpx.post(
            f"{self.url}/sandbox/v1/click",
            json={"user": user, "action_id": action_id, "ts": ts},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        result = answer.json()
        body: dict[str, Any] = {}
        if result.get("delivered") and result.get("body"):
            try:
                body = json.loads(result["body"])
            except json.JSONDecodeError:
                body = {"note": result["body"]}
        return ClickAnswer(
            delivered=bool(result.get("delivered")),
            status=result.get("status"),
            answer=body,
            error=str(result.get("error") or ""),
        )


def _posted(raw: dict[str, Any]) -> PostedMessage:
    metadata = raw.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    ours = metadata.get("event_type") == DECISION_EVENT
    return PostedMessage(
        ts=str(raw["ts"]),
        text=str(raw.get("text") or ""),
        blocks=list(raw.get("blocks") or []),
        replies=[str(reply.get("text") or "") for reply in raw.get("replies", [])],
        edited="edited" in raw,
        incident_id=str(payload["incident_id"]) if ours and "incident_id" in payload else None,
        attempt=int(payload["attempt"]) if ours and "attempt" in payload else None,
    )
