"""The Slack activity: one decision message per incident and attempt, updated on every later
transition, with the follow-ups in its thread.

slack_sdk's WebClient blocks, so this is a sync activity run on the worker's thread pool.
Optional: with SLACK_BOT_TOKEN or SLACK_CHANNEL unset there is no message, said plainly.

Idempotency: the message carries metadata naming the incident and attempt, so a retry (a
worker killed between posting and recording it) finds it in the channel's history and updates
it; a thread reply carries its key and is not said twice.
"""

from __future__ import annotations

import threading

from selfheal.activities.slack import message
from selfheal.activities.slack.chat import DECISION_EVENT, SlackChat
from selfheal.contracts.slack import PUBLISH_DECISION, DecisionPost, DecisionPosted
from selfheal.contracts.spec import implements
from selfheal.model.incident import DecisionMessage
from selfheal.settings import Settings

NOT_CONFIGURED = (
    "Slack not configured (SLACK_BOT_TOKEN or SLACK_CHANNEL unset): no decision message"
)


class SlackActivities:
    """Posts and keeps up the decision messages in SLACK_CHANNEL."""

    def __init__(self, settings: Settings, chat: SlackChat | None = None) -> None:
        self._settings = settings
        self._chat = chat
        self._lock = threading.Lock()

    @implements(PUBLISH_DECISION)
    def publish_decision(self, request: DecisionPost) -> DecisionPosted:
        """Find or post the attempt's message (or update the given one); reply in its thread."""
        chat = self._client()
        if chat is None:
            return DecisionPosted(note=NOT_CONFIGURED)
        card = request.card
        text, shown = message.fallback_text(card), message.blocks(card)
        known = request.message
        if known is None:
            found = chat.find_decision(card.incident_id, card.attempt, card.opened_at)
            if found is None:
                metadata = {
                    "event_type": DECISION_EVENT,
                    "event_payload": {"incident_id": card.incident_id, "attempt": card.attempt},
                }
                channel, ts = chat.post(text, shown, metadata)
            else:
                channel, ts = found
                chat.update(channel, ts, text, shown)
            known = DecisionMessage(channel=channel, ts=ts, attempt=card.attempt)
        else:
            chat.update(known.channel, known.ts, text, shown)
        if request.thread_note:
            chat.reply(known.channel, known.ts, request.thread_note, request.note_key)
        return DecisionPosted(message=known)

    def _client(self) -> SlackChat | None:
        settings = self._settings
        if not settings.slack_configured:
            return None
        with self._lock:
            if self._chat is None:
                assert settings.slack_bot_token is not None and settings.slack_channel
                self._chat = SlackChat(
                    settings.slack_bot_token.get_secret_value(),
                    settings.slack_channel,
                    settings.slack_api_url,
                )
            return self._chat
