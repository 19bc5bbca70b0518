"""The webhook server: `create_app` builds the FastAPI app, `serve` runs it with uvicorn."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from selfheal.activities.slack.chat import SlackChat
from selfheal.connection import connect
from selfheal.observability import configure_logging
from selfheal.settings import Settings
from selfheal.webhook import alert_routes, health_routes, pull_request_routes, slack_routes
from selfheal.webhook.auth import (
    SenderCheck,
    bearer_token,
    hub_signature,
    open_door,
    pagerduty_signature,
    slack_signature,
)
from selfheal.webhook.deps import AlertDoor
from selfheal.webhook.errors import install_error_answers
from selfheal.webhook.gate import WebhookGate
from selfheal.webhook.service_map import load_service_map
from selfheal.webhook.temporal_link import ClientFactory, TemporalLink

DESCRIPTION = """\
Alerts in: Alertmanager, PagerDuty, JIRA and selfheal's own Alert JSON start or join one
durable incident workflow each (signal-with-start, deduplicated by incident id); GitHub
reviews and merges of selfheal's pull requests reach the incident that owns them.

Answers: 202 `{incident_id, workflow_id, ui_url, deduplicated, incidents}`; 401 bad token or
signature; 413 body too large; 422 naming the bad field; 503 with Retry-After while Temporal
is unreachable (retry: nothing is lost).
"""


class WebhookConfigError(Exception):
    """The webhook is configured so that anyone could start incidents; the message says the fix."""


def sender_checks(settings: Settings) -> dict[str, SenderCheck]:
    """Which check each webhook route applies to its sender.

    Routes with their own signature scheme use it when its secret is set and fall back to the
    bearer token otherwise, so no route is open unless SELFHEAL_WEBHOOK_INSECURE=1.
    """
    secrets = (
        settings.pagerduty_secret,
        settings.github_webhook_secret,
        settings.jira_webhook_secret,
        settings.slack_signing_secret,
    )
    if settings.webhook_token is None and not any(secrets) and not settings.webhook_insecure:
        raise WebhookConfigError(
            "refusing to start a webhook anyone could post to: set SELFHEAL_WEBHOOK_TOKEN "
            "(and/or SELFHEAL_PAGERDUTY_SECRET, SELFHEAL_GITHUB_WEBHOOK_SECRET, "
            "SELFHEAL_JIRA_WEBHOOK_SECRET, SELFHEAL_SLACK_SIGNING_SECRET), or "
            "SELFHEAL_WEBHOOK_INSECURE=1 for a local trial"
        )
    token: SenderCheck = (
        open_door
        if settings.webhook_token is None and settings.webhook_insecure
        else bearer_token(settings.webhook_token)
    )
    return {
        "/webhooks/alertmanager": token,
        "/webhooks/generic": token,
        "/webhooks/pagerduty": (
            pagerduty_signature(settings.pagerduty_secret) if settings.pagerduty_secret else token
        ),
        "/webhooks/jira": (
            hub_signature("X-Hub-Signature", settings.jira_webhook_secret)
            if settings.jira_webhook_secret
            else token
        ),
        "/webhooks/github": (
            hub_signature("X-Hub-Signature-256", settings.github_webhook_secret)
            if settings.github_webhook_secret
            else token
        ),
        # Slack cannot send a bearer token: without its signing secret the route refuses all.
        "/webhooks/slack/interactions": slack_signature(settings.slack_signing_secret),
    }


def create_app(
    settings: Settings,
    client_factory: ClientFactory = connect,
    *,
    call_timeout: float = 5.0,
    retry_after: int = 5,
) -> FastAPI:
    """The webhook app; Temporal is connected on the first request that needs it.

    Raises WebhookConfigError when no token or secret protects it (and it is not marked
    insecure), and ServiceMapError when SELFHEAL_SERVICE_MAP cannot be read.
    `call_timeout` bounds each Temporal call before the answer becomes 503.
    """
    checks = sender_checks(settings)
    services = load_service_map(settings.service_map)
    link = TemporalLink(client_factory, call_timeout=call_timeout, retry_after=retry_after)
    app = FastAPI(title="selfheal webhook", description=DESCRIPTION, version="1")
    install_error_answers(app)
    for routes in (alert_routes, pull_request_routes, slack_routes, health_routes):
        app.include_router(routes.router)
    app.add_middleware(WebhookGate, checks=checks, max_body_bytes=settings.max_body_bytes)
    app.state.settings = settings
    app.state.temporal = link
    app.state.services = services
    app.state.door = AlertDoor(settings, link)
    app.state.slack_chat = _slack_chat(settings)
    return app


def _slack_chat(settings: Settings) -> SlackChat | None:
    """The bot that answers clicks in their threads, when Slack is configured."""
    if settings.slack_bot_token is None or not settings.slack_channel:
        return None
    # Short: a reply or a users.info lookup must fit in Slack's 3 s for the click.
    return SlackChat(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_channel,
        settings.slack_api_url,
        timeout=2,
    )


def serve(settings: Settings) -> None:
    """Run the webhook on settings.webhook_host:webhook_port until interrupted."""
    configure_logging(settings.log_format)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.webhook_host,
        port=settings.webhook_port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
        # Longer than the idle timeouts of common load balancers and senders' pools, so a
        # sender never reuses a connection the server is closing.
        timeout_keep_alive=75,
    )
