"""The webhook server (alerts in): Alertmanager, PagerDuty, JIRA, GitHub and generic routes."""

from selfheal.starters.webhook.app import WebhookConfigError, create_app, sender_guards, serve
from selfheal.starters.webhook.service_map import ServiceMapError

__all__ = ["ServiceMapError", "WebhookConfigError", "create_app", "sender_guards", "serve"]
