"""The alert routes: Alertmanager, PagerDuty, JIRA and selfheal's own Alert JSON.

Each turns its sender's payload into alerts and hands them to the door (deps.py): one
signal-with-start per workload, answered 202 with the incidents they joined or opened.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from selfheal.model.alerts import Alert
from selfheal.webhook import alertmanager, jira, pagerduty
from selfheal.webhook.answers import ERROR_ANSWERS, Accepted, Ignored
from selfheal.webhook.deps import Door, Services
from selfheal.webhook.errors import invalid_at, missing, validate_part

router = APIRouter(tags=["alerts"])


@router.post(
    "/webhooks/alertmanager", status_code=202, response_model=Accepted, responses=ERROR_ANSWERS
)
async def from_alertmanager(payload: alertmanager.AlertmanagerPayload, door: Door) -> Accepted:
    """Start or join one incident per alert of an Alertmanager v4 notification.

    Firing and resolved alerts are both delivered; a resolved alert only joins an open
    incident. Needs `Authorization: Bearer $SELFHEAL_WEBHOOK_TOKEN`.
    """
    alerts = [
        converted(partial(alertmanager.alert_of, alert), at=("alerts", index))
        for index, alert in enumerate(payload.alerts)
    ]
    return await door.deliver(alerts)


@router.post(
    "/webhooks/pagerduty",
    status_code=202,
    response_model=Accepted | Ignored,
    responses=ERROR_ANSWERS,
)
async def from_pagerduty(
    payload: pagerduty.PagerDutyPayload, door: Door, services: Services
) -> Accepted | Ignored:
    """Start (incident.triggered) or resolve (incident.resolved) the PagerDuty incident's alert.

    Other event types are acknowledged and ignored. Signed with `X-PagerDuty-Signature`
    when SELFHEAL_PAGERDUTY_SECRET is set (otherwise the bearer token is required).
    """
    event = payload.event
    status = pagerduty.HANDLED_EVENTS.get(event.event_type)
    if status is None:
        return Ignored(reason=f"event type {event.event_type} opens or closes nothing")
    data = validate_part(pagerduty.IncidentData, event.data, at=("event", "data"))
    alert = converted(partial(pagerduty.alert_of, data, status, services), at=("event", "data"))
    return await door.deliver([alert])


@router.post(
    "/webhooks/jira", status_code=202, response_model=Accepted | Ignored, responses=ERROR_ANSWERS
)
async def from_jira(
    payload: jira.JiraPayload, door: Door, services: Services
) -> Accepted | Ignored:
    """Open an incident linked to a newly created JIRA ticket (jira:issue_created).

    The workload comes from a `k8s:<namespace>/<deployment>` label or custom field, or from
    the service map by component. Signed with `X-Hub-Signature` when
    SELFHEAL_JIRA_WEBHOOK_SECRET is set (otherwise the bearer token is required).
    """
    if payload.webhook_event != jira.HANDLED_EVENT:
        return Ignored(reason=f"{payload.webhook_event} opens nothing; only new issues do")
    if payload.issue is None:
        raise RequestValidationError([missing("issue")])
    alert = converted(partial(jira.alert_of, payload.issue, services), at=("issue",))
    return await door.deliver([alert])


@router.post("/webhooks/generic", status_code=202, response_model=Accepted, responses=ERROR_ANSWERS)
async def from_generic(alert: Alert, door: Door) -> Accepted:
    """Start or join the incident of one alert in selfheal's own Alert JSON.

    Needs `Authorization: Bearer $SELFHEAL_WEBHOOK_TOKEN`.
    """
    return await door.deliver([alert])


def converted(build: Callable[[], Alert], at: tuple[str | int, ...]) -> Alert:
    """Build an Alert from a validated payload part; a value it refuses is reported at `at`."""
    try:
        return build()
    except ValidationError as err:
        raise invalid_at(err, at) from err
