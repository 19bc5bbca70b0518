"""The GitHub route: reviews, merges and closes of selfheal's pull requests reach the
incident that owns them, named by the branch (`selfheal/<incident-id>[-<n>]`)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Response
from fastapi.exceptions import RequestValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from selfheal.client.incidents import Delivery, incident_ui_url
from selfheal.model.decisions import PullRequestEvent
from selfheal.webhook import github
from selfheal.webhook.answers import ERROR_ANSWERS, Accepted, Ignored, Pong
from selfheal.webhook.deps import Link, Settings_
from selfheal.webhook.errors import missing
from selfheal.workflows.incident import IncidentWorkflow

log = structlog.get_logger("selfheal.webhook")

router = APIRouter(tags=["pull requests"])


@router.post(
    "/webhooks/github",
    status_code=202,
    response_model=Accepted | Ignored | Pong,
    responses={**ERROR_ANSWERS, 200: {"model": Pong, "description": "ping answered"}},
)
async def from_github(
    payload: github.GitHubPayload,
    response: Response,
    link: Link,
    settings: Settings_,
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
        raise RequestValidationError([missing("pull_request")])
    event = github.pr_event_of(x_github_event, payload)
    incident_id = github.incident_of_branch(payload.pull_request.head.ref)
    if event is None:
        return Ignored(reason=f"{x_github_event} {payload.action} changes nothing")
    if incident_id is None:
        return Ignored(reason=f"branch {payload.pull_request.head.ref} is not a selfheal fix")

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
    return Accepted.of([_delivered(incident_id, event, settings.temporal_ui_url, namespace)])


def _delivered(incident_id: str, event: PullRequestEvent, ui_base: str, namespace: str) -> Delivery:
    return Delivery(
        incident_id=incident_id,
        workflow_id=incident_id,
        ui_url=incident_ui_url(ui_base, namespace, incident_id),
        deduplicated=True,
        note=f"pull request #{event.number} {event.action.value}",
    )
