"""The webhook routes: each turns its source's payload into alerts or PR events for Temporal."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from selfheal.model.alerts import Alert
from selfheal.model.decisions import PullRequestEvent
from selfheal.settings import Settings
from selfheal.starters.incidents import Delivery, deliver_alerts, incident_ui_url
from selfheal.starters.webhook import alertmanager, github, jira, pagerduty
from selfheal.starters.webhook.answers import ERROR_ANSWERS, Accepted, Health, Ignored, Pong
from selfheal.starters.webhook.errors import invalid_at, validate_part
from selfheal.starters.webhook.service_map import ServiceMap
from selfheal.starters.webhook.temporal_link import TemporalLink
from selfheal.workflows.incident import IncidentWorkflow

log = structlog.get_logger("selfheal.webhook")


def webhook_routes(settings: Settings, link: TemporalLink, services: ServiceMap) -> APIRouter:
    """The five webhook routes of docs/webhook.md plus health, bound to one Temporal link."""
    router = APIRouter()

    async def deliver(alerts: list[Alert]) -> Accepted:
        async def deliver_all(client: Client) -> list[Delivery]:
            return await deliver_alerts(
                client,
                alerts,
                settings.task_queue,
                settings.temporal_ui_url,
                settings.cluster,
                settings.workload_task_queue(),
            )

        deliveries = await link.run(deliver_all)
        for alert, delivery in zip(alerts, deliveries, strict=True):
            _log_delivery(alert, delivery)
        return Accepted.of(deliveries)

    @router.post(
        "/webhooks/alertmanager",
        status_code=202,
        response_model=Accepted,
        responses=ERROR_ANSWERS,
        tags=["alerts"],
    )
    async def from_alertmanager(payload: alertmanager.AlertmanagerPayload) -> Accepted:
        """Start or join one incident per alert of an Alertmanager v4 notification.

        Firing and resolved alerts are both delivered; a resolved alert only joins an open
        incident. Needs `Authorization: Bearer $SELFHEAL_WEBHOOK_TOKEN`.
        """
        alerts = [
            _converted(partial(alertmanager.alert_of, alert), at=("alerts", index))
            for index, alert in enumerate(payload.alerts)
        ]
        return await deliver(alerts)

    @router.post(
        "/webhooks/pagerduty",
        status_code=202,
        response_model=Accepted | Ignored,
        responses=ERROR_ANSWERS,
        tags=["alerts"],
    )
    async def from_pagerduty(payload: pagerduty.PagerDutyPayload) -> Accepted | Ignored:
        """Start (incident.triggered) or resolve (incident.resolved) the PagerDuty incident's alert.

        Other event types are acknowledged and ignored. Signed with `X-PagerDuty-Signature`
        when SELFHEAL_PAGERDUTY_SECRET is set (otherwise the bearer token is required).
        """
        event = payload.event
        status = pagerduty.HANDLED_EVENTS.get(event.event_type)
        if status is None:
            return Ignored(reason=f"event type {event.event_type} opens or closes nothing")
        data = validate_part(pagerduty.IncidentData, event.data, at=("event", "data"))
        alert = _converted(
            partial(pagerduty.alert_of, data, status, services), at=("event", "data")
        )
        return await deliver([alert])

    @router.post(
        "/webhooks/jira",
        status_code=202,
        response_model=Accepted | Ignored,
        responses=ERROR_ANSWERS,
        tags=["alerts"],
    )
    async def from_jira(payload: jira.JiraPayload) -> Accepted | Ignored:
        """Open an incident linked to a newly created JIRA ticket (jira:issue_created).

        The workload comes from a `k8s:<namespace>/<deployment>` label or custom field, or from
        the service map by component. Signed with `X-Hub-Signature` when
        SELFHEAL_JIRA_WEBHOOK_SECRET is set (otherwise the bearer token is required).
        """
        if payload.webhook_event != jira.HANDLED_EVENT:
            return Ignored(reason=f"{payload.webhook_event} opens nothing; only new issues do")
        if payload.issue is None:
            raise RequestValidationError([_missing("issue")])
        alert = _converted(partial(jira.alert_of, payload.issue, services), at=("issue",))
        return await deliver([alert])

    @router.post(
        "/webhooks/github",
        status_code=202,
        response_model=Accepted | Ignored | Pong,
        responses={**ERROR_ANSWERS, 200: {"model": Pong, "description": "ping answered"}},
        tags=["pull requests"],
    )
    async def from_github(
        payload: github.GitHubPayload,
        response: Response,
        x_github_event: Annotated[str, Header(description="pull_request, ...")] = "",
    ) -> Accepted | Ignored | Pong:
        """Pass a review, merge or close of a selfheal pull request to its incident (`pr_event`).

        The incident is the one named by the PR's head branch, `selfheal/<incident-id>[-<n>]`.
        Signed with `X-Hub-Signature-256` when SELFHEAL_GITHUB_WEBHOOK_SECRET is set.
        """
        if x_github_event == "ping":
            response.status_code = 200
            return Pong(hook_id=payload.hook_id)
        if x_github_event not in ("pull_request", "pull_request_review"):
            return Ignored(reason=f"GitHub event {x_github_event or '(none)'} is not handled")
        if payload.pull_request is None:
            raise RequestValidationError([_missing("pull_request")])
        event = github.pr_event_of(x_github_event, payload)
        incident_id = github.incident_of_branch(payload.pull_request.head.ref)
        if event is None:
            return Ignored(reason=f"{x_github_event} {payload.action} changes nothing")
        if incident_id is None:
            return Ignored(reason=f"branch {payload.pull_request.head.ref} is not a selfheal fix")
        return await _signal_pr_event(incident_id, event)

    async def _signal_pr_event(incident_id: str, event: PullRequestEvent) -> Accepted | Ignored:
        async def signal(client: Client) -> str:
            await client.get_workflow_handle(incident_id).signal(IncidentWorkflow.pr_event, event)
            return client.namespace

        try:
            namespace = await link.run(signal)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return Ignored(reason=f"no open incident {incident_id} owns PR #{event.number}")
        log.info("pr event delivered", incident_id=incident_id, action=event.action.value)
        delivery = Delivery(
            incident_id=incident_id,
            workflow_id=incident_id,
            ui_url=incident_ui_url(settings.temporal_ui_url, namespace, incident_id),
            deduplicated=True,
            note=f"pull request #{event.number} {event.action.value}",
        )
        return Accepted.of([delivery])

    @router.post(
        "/webhooks/generic",
        status_code=202,
        response_model=Accepted,
        responses=ERROR_ANSWERS,
        tags=["alerts"],
    )
    async def from_generic(alert: Alert) -> Accepted:
        """Start or join the incident of one alert in selfheal's own Alert JSON.

        Needs `Authorization: Bearer $SELFHEAL_WEBHOOK_TOKEN`.
        """
        return await deliver([alert])

    @router.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Liveness: 200 while the process serves; also says whether Temporal is reachable."""
        reachable = await link.reachable()
        return Health(status="ok", temporal="reachable" if reachable else "unreachable")

    @router.get(
        "/readyz", response_model=Health, responses={503: {"model": Health}}, tags=["health"]
    )
    async def readyz(response: Response) -> Health:
        """Readiness: 200 when Temporal is reachable, 503 with Retry-After when it is not."""
        if await link.reachable():
            return Health(status="ok", temporal="reachable")
        response.status_code = 503
        response.headers["Retry-After"] = str(link.retry_after)
        return Health(status="unavailable", temporal="unreachable")

    return router


def _converted(build: Callable[[], Alert], at: tuple[str | int, ...]) -> Alert:
    """Build an Alert from a validated payload part; a value it refuses is reported at `at`."""
    try:
        return build()
    except ValidationError as err:
        raise invalid_at(err, at) from err


def _missing(field: str) -> dict[str, object]:
    return {"type": "missing", "loc": ("body", field), "msg": "Field required", "input": None}


def _log_delivery(alert: Alert, delivery: Delivery) -> None:
    if delivery.deduplicated:
        # A storm repeats this line thousands of times: debug, and no bound logger to build.
        log.debug("alert joined incident", incident_id=delivery.incident_id)
        return
    log.bind(incident_id=delivery.incident_id, source=alert.source.value).info(
        "alert delivered",
        status=alert.status.value,
        namespace=alert.namespace,
        workload=alert.workload,
        note=delivery.note or None,
    )
