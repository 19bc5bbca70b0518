"""selfheal's calls to the Slack Web API, through slack_sdk's WebClient (SLACK_API_URL).

Shared by the activity that posts the decision messages and by the webhook route that
answers clicks in their threads. Messages carry Slack message metadata naming what they
are, so a retried call finds what an earlier attempt posted instead of posting it twice
(reading it needs the channels:history scope).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from temporalio.exceptions import ApplicationError

DECISION_EVENT = "selfheal_decision"
NOTE_EVENT = "selfheal_note"
HISTORY_PAGES = 5
"""How many pages (200 messages each) of the channel are read to find an earlier post."""

TRANSIENT = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
    }
)
"""Slack's error codes that a later attempt may not meet; every other code is a refusal."""


@contextmanager
def slack_call(doing: str) -> Iterator[None]:
    """Turn Slack's answers into ApplicationErrors: a refusal fails for good, an outage retries."""
    try:
        yield
    except SlackApiError as err:
        code = str(err.response.get("error", "")) or f"HTTP {err.response.status_code}"
        said = f"Slack answered {code} to {doing}"
        if code in TRANSIENT or err.response.status_code >= 500:
            raise ApplicationError(said, type="SlackUnavailable") from err
        hint = {
            "not_in_channel": "; invite the bot to SLACK_CHANNEL",
            "channel_not_found": "; check SLACK_CHANNEL",
            "invalid_auth": "; check SLACK_BOT_TOKEN",
            "not_authed": "; set SLACK_BOT_TOKEN",
            "missing_scope": f" (needs {err.response.get('needed', 'a scope')})",
        }.get(code, "")
        raise ApplicationError(said + hint, type="SlackRefused", non_retryable=True) from err
    except URLError as err:
        raise ApplicationError(
            f"Slack unreachable while {doing}: {err}", type="SlackUnavailable"
        ) from err


class SlackChat:
    """One bot's conversation in one channel."""

    def __init__(self, token: str, channel: str, api_url: str, timeout: int = 10) -> None:
        self.channel = channel
        self._client = WebClient(
            token=token,
            base_url=api_url,
            timeout=timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
        )

    def find_decision(
        self, incident_id: str, attempt: int, since: datetime
    ) -> tuple[str, str] | None:
        """The (channel, ts) of the decision message posted for this attempt, if any."""
        wanted = {"incident_id": incident_id, "attempt": attempt}
        cursor = None
        with slack_call("reading the channel's history"):
            for _ in range(HISTORY_PAGES):
                page = self._client.conversations_history(
                    channel=self.channel,
                    oldest=f"{since.timestamp() - 60:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                messages: list[dict[str, Any]] = page.get("messages", [])
                for message in messages:
                    if _metadata_of(message, DECISION_EVENT) == wanted:
                        return self.channel, str(message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    break
        return None

    def post(
        self, text: str, blocks: list[dict[str, Any]], metadata: dict[str, Any]
    ) -> tuple[str, str]:
        """Post a top-level message; its (channel id, ts)."""
        with slack_call("posting the decision message"):
            answer = self._client.chat_postMessage(
                channel=self.channel,
                text=text,
                blocks=blocks,
                metadata=metadata,
                unfurl_links=False,
            )
        return str(answer["channel"]), str(answer["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Replace a message's text and blocks."""
        with slack_call("updating the decision message"):
            self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def reply(self, channel: str, ts: str, text: str, key: str = "") -> None:
        """Say `text` in the thread of message `ts`; with a `key`, only if not said already."""
        metadata = None
        if key:
            metadata = {"event_type": NOTE_EVENT, "event_payload": {"key": key}}
            with slack_call("reading the thread"):
                thread = self._client.conversations_replies(
                    channel=channel, ts=ts, include_all_metadata=True, limit=200
                )
            if any(_metadata_of(m, NOTE_EVENT) == {"key": key} for m in thread["messages"]):
                return
        with slack_call("replying in the thread"):
            self._client.chat_postMessage(
                channel=channel, thread_ts=ts, text=text, metadata=metadata, unfurl_links=False
            )

    def email_of(self, user_id: str) -> str | None:
        """The profile email of a Slack user (users:read.email), None when Slack has none."""
        with slack_call(f"looking up user {user_id}"):
            try:
                answer = self._client.users_info(user=user_id)
            except SlackApiError as err:
                if err.response.get("error") == "user_not_found":
                    return None
                raise
        email = (answer["user"].get("profile") or {}).get("email")
        return str(email) if email else None


def _metadata_of(message: dict[str, Any], event_type: str) -> Any:
    metadata = message.get("metadata") or {}
    return metadata.get("event_payload") if metadata.get("event_type") == event_type else None
