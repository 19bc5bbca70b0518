"""The Slack route: a click on a decision message's Approve or Reject button becomes the
person's decision on the proposal the button names, answered in the message's thread.

The gate has already checked Slack's signature and the request's age (auth.py
`slack_signature`). Slack wants an answer within 3 seconds: the decision is delivered within
DECIDE_BUDGET, and whatever takes longer (a busy worker, the thread reply) carries on after
the answer; the person reads the outcome in the thread either way.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from selfheal.activities.slack.chat import SlackChat
from selfheal.client import decisions
from selfheal.client.decisions import Refused
from selfheal.model.decisions import Approval, Rejection
from selfheal.settings import Settings
from selfheal.webhook import slack
from selfheal.webhook.answers import ERROR_ANSWERS, Ignored
from selfheal.webhook.deps import Link, Settings_
from selfheal.webhook.slack import Click
from selfheal.webhook.temporal_link import TemporalLink, TemporalUnavailable
from selfheal.workflows.incident import IncidentWorkflow

log = structlog.get_logger("selfheal.webhook")

router = APIRouter(tags=["slack"])

DECIDE_BUDGET = 2.5
"""Seconds the route waits for the decision before answering Slack anyway (Slack allows 3)."""

DELIVER_TIMEOUT = decisions.LIVENESS_TIMEOUT.total_seconds() + 10.0
"""Seconds a decision may take once Slack has its answer: a worker that is down is found by a
query that waits out LIVENESS_TIMEOUT, and the decision then goes as a signal. The webhook's
usual call budget (5 s) left too little of that for a busy Temporal."""

_RUNNING: set[asyncio.Task[None]] = set()
"""Decisions and replies still under way after their answer (kept from the collector)."""


class SlackAnswer(BaseModel):
    """200: what became of the click (Slack shows nothing of it; the thread says the same)."""

    decided: bool
    person: str | None = None
    note: str


async def chat_of(request: Request) -> SlackChat | None:
    """The bot that replies in the threads (None when SLACK_BOT_TOKEN/SLACK_CHANNEL are unset)."""
    chat: SlackChat | None = request.app.state.slack_chat
    return chat


Chat = Annotated[SlackChat | None, Depends(chat_of)]


@router.post(
    "/webhooks/slack/interactions",
    response_model=SlackAnswer | Ignored,
    responses=ERROR_ANSWERS,
)
async def from_slack(
    request: Request, link: Link, settings: Settings_, chat: Chat
) -> SlackAnswer | Ignored:
    """Deliver a click on Approve or Reject as that person's decision (channel `slack`)
    naming the proposal on the button; refuse people selfheal cannot name or who may not
    approve; say the outcome in the message's thread."""
    click = slack.click_of(slack.interaction_of(await request.body()))
    if click is None:
        return Ignored(reason="not a click on a selfheal decision button")
    done: asyncio.Future[SlackAnswer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(_decide_and_tell(click, link, settings, chat, done))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    try:
        return await asyncio.wait_for(asyncio.shield(done), DECIDE_BUDGET)
    except TimeoutError:
        return SlackAnswer(decided=False, note="still deciding; the outcome follows in the thread")


async def _decide_and_tell(
    click: Click,
    link: TemporalLink,
    settings: Settings,
    chat: SlackChat | None,
    done: asyncio.Future[SlackAnswer],
) -> None:
    try:
        answer = await _decide(click, link, settings, chat)
    except Exception as err:  # the thread must hear of any failure, not only known ones
        log.exception("slack decision failed", incident_id=click.incident_id)
        answer = SlackAnswer(decided=False, note=f"selfheal could not deliver it: {err}")
    if not done.done():
        done.set_result(answer)
    log.info(
        "slack decision",
        incident_id=click.incident_id,
        slack_user=click.user_id,
        person=answer.person,
        decision=click.decision,
        proposal=click.proposal,
        decided=answer.decided,
        note=answer.note,
    )
    if chat is not None and click.channel and click.message_ts:
        try:
            await asyncio.to_thread(
                chat.reply, click.channel, click.message_ts, _said(click, answer)
            )
        except Exception:  # a reply that fails changes nothing decided; the log has it
            log.exception("slack reply failed", incident_id=click.incident_id)


async def _decide(
    click: Click, link: TemporalLink, settings: Settings, chat: SlackChat | None
) -> SlackAnswer:
    person = settings.slack_people().get(click.user_id)
    if person is None and chat is not None:
        person = await asyncio.to_thread(chat.email_of, click.user_id)
    if person is None:
        return SlackAnswer(
            decided=False,
            note="selfheal does not know who this Slack user is (not in SELFHEAL_SLACK_USERS, "
            "no profile email): nothing was decided",
        )
    proposal, by = click.proposal, person
    made: Approval | Rejection
    if click.decision == "approve":
        made = Approval(by=by, comment="approved in Slack", proposal=proposal, channel="slack")
    else:
        made = Rejection(by=by, reason="rejected in Slack", proposal=proposal, channel="slack")
    if settings.approvers and person not in settings.approvers:
        return await _record_refused(click, link, made)

    async def deliver(client: Client) -> str:
        if isinstance(made, Approval):
            return (await decisions.approve(client, click.incident_id, made)).note
        return (await decisions.reject(client, click.incident_id, made)).note

    try:
        note = await link.run(deliver, DELIVER_TIMEOUT)
    except Refused as refusal:
        return SlackAnswer(decided=False, person=person, note=f"refused: {refusal}")
    except TemporalUnavailable as err:
        return SlackAnswer(decided=False, person=person, note=f"{err}: nothing was decided")
    return SlackAnswer(decided=True, person=person, note=note)


async def _record_refused(
    click: Click, link: TemporalLink, made: Approval | Rejection
) -> SlackAnswer:
    """A person who may not decide: their click goes to the incident as a signal, which
    records it and lets it count for nothing."""

    async def record(client: Client) -> None:
        handle = client.get_workflow_handle(click.incident_id)
        if isinstance(made, Approval):
            await handle.signal(IncidentWorkflow.approve, made)
        else:
            await handle.signal(IncidentWorkflow.reject, made)

    note = f"{made.by} is not an approver (SELFHEAL_APPROVERS): recorded, nothing was decided"
    try:
        await link.run(record)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        note = f"no open incident {click.incident_id}: nothing was decided"
    return SlackAnswer(decided=False, person=made.by, note=note)


def _said(click: Click, answer: SlackAnswer) -> str:
    who = f"<@{click.user_id}>" + (f" ({answer.person})" if answer.person else "")
    verb = "approved" if click.decision == "approve" else "rejected"
    if answer.decided:
        return f"{who} {verb} proposal `{click.proposal}`: {answer.note}"
    return (
        f"{who} clicked {click.decision.capitalize()} on proposal `{click.proposal}`: {answer.note}"
    )
