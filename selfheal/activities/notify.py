"""Chat notifications through a Slack incoming webhook (optional)."""

from __future__ import annotations

import httpx
from temporalio.exceptions import ApplicationError

from selfheal.contracts.notify import NOTIFY, Notification, NotificationResult
from selfheal.contracts.spec import implements
from selfheal.redaction import redact_text
from selfheal.settings import Settings

_ICONS = {
    "AWAITING_REVIEW": ":eyes:",
    "AWAITING_APPROVAL": ":raised_hand:",
    "ESCALATED": ":rotating_light:",
    "RESOLVED": ":white_check_mark:",
}


class NotifyActivities:
    """Posts incident transitions to Slack when SLACK_WEBHOOK_URL is set."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @implements(NOTIFY)
    async def notify(self, notification: Notification) -> NotificationResult:
        """Post one message; say plainly when Slack is not configured instead of pretending."""
        webhook = self._settings.slack_webhook_url
        if webhook is None:
            return NotificationResult(
                sent=False, note="Slack not configured (SLACK_WEBHOOK_URL unset)"
            )
        icon = _ICONS.get(notification.state.value, ":information_source:")
        text = redact_text(
            f"{icon} *{notification.incident_id}* {notification.state.value}: {notification.text}"
        )
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(webhook.get_secret_value(), json={"text": text})
        if 400 <= response.status_code < 500:
            raise ApplicationError(
                f"Slack refused the message: HTTP {response.status_code} {response.text[:200]}",
                type="NotificationRefused",
                non_retryable=True,
            )
        response.raise_for_status()
        return NotificationResult(sent=True)
