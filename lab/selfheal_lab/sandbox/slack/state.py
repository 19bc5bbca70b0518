"""The Slack stand-in's workspace: its bot, users, channels and the messages posted there."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SANDBOX"
BOT_USER_ID = "U0SELFHEAL"
BOT_ID = "B0SELFHEAL"
BOT_TOKEN = "xoxb-sandbox-selfheal"
CHANNEL_ID = "C0INCIDENTS"
CHANNEL_NAME = "incidents"


class SlackError(Exception):
    """A Web API error: Slack answers HTTP 200 with `{"ok": false, "error": code}`."""

    def __init__(self, code: str, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass
class SlackUser:
    """A workspace member as users.info shows them."""

    id: str
    name: str
    email: str
    real_name: str = ""

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name or self.name,
            "is_bot": False,
            "profile": {
                "real_name": self.real_name or self.name,
                "display_name": self.name,
                "email": self.email,
            },
        }


@dataclass
class Message:
    """A message in a channel; replies carry their parent's ts in `thread_ts`."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    user: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    edited: int = 0

    def render(self, with_metadata: bool = True) -> dict[str, Any]:
        """The message as the Web API returns it."""
        shown: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "blocks": self.blocks,
            "team": TEAM_ID,
        }
        if self.bot_id:
            shown["bot_id"] = self.bot_id
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if self.edited:
            shown["edited"] = {"user": self.user, "ts": self.ts}
        if with_metadata and self.metadata:
            shown["metadata"] = self.metadata
        return shown

    def buttons(self) -> list[dict[str, Any]]:
        """The message's button elements, with the block_id of their actions block."""
        found = []
        for block in self.blocks:
            if block.get("type") != "actions":
                continue
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    found.append({**element, "block_id": block.get("block_id", "")})
        return found


class SlackState:
    """Everything the stand-in knows, behind one lock (requests run on several threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens = {BOT_TOKEN}
        self.channels = {CHANNEL_ID: CHANNEL_NAME}
        self.users: dict[str, SlackUser] = {}
        self.messages: list[Message] = []
        self._seq = itertools.count(1)

    def add_user(self, user: SlackUser) -> None:
        with self.lock:
            self.users[user.id] = user

    def authenticate(self, authorization: str) -> str:
        """The bot token of an `Authorization: Bearer` header; Slack's errors otherwise."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SlackError("not_authed")
        if token not in self.tokens:
            raise SlackError("invalid_auth")
        return token

    def channel_id(self, channel: str) -> str:
        """A channel by id, `#name` or name (chat.postMessage accepts either)."""
        name = channel.lstrip("#")
        with self.lock:
            if channel in self.channels:
                return channel
            for channel_id, known in self.channels.items():
                if known == name:
                    return channel_id
        raise SlackError("channel_not_found")

    def next_ts(self) -> str:
        """A new message ts: `<epoch seconds>.<6 digits>`, unique and increasing."""
        return f"{int(time.time())}.{next(self._seq):06d}"

    def find(self, channel: str, ts: str) -> Message:
        with self.lock:
            for message in self.messages:
                if message.channel == channel and message.ts == ts:
                    return message
        raise SlackError("message_not_found")

    def top_level(self, channel: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.channel == channel and not m.thread_ts]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent and its replies, oldest first."""
        with self.lock:
            parent = self.find(channel, ts)
            replies = [m for m in self.messages if m.channel == channel and m.thread_ts == ts]
        return [parent, *replies]
