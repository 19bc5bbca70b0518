"""Experiments `outage` and `refusal`: a stand-in fails for a while, or refuses for good.

`outage`: while incidents are open, one stand-in (Kubernetes, GitHub or JIRA) answers 503,
or hangs every request, for `seconds` (60 by default). Retries must carry every incident
through to RESOLVED, with its ticket, and nothing done twice. An incident that ends inside a
JIRA outage hands its ticket to a TicketCatchUpWorkflow; the ticket must appear once JIRA is
back.

`refusal`: one stand-in answers 403 to everything from then on. An integration selfheal
needs (Kubernetes, GitHub) must end the incident ESCALATED with a reason that names the
refusal, after a handful of requests, not a retry storm. JIRA mirrors the incident and is
optional (docs/integrations/jira.md): its refusal is recorded on the timeline and the
incident still resolves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from temporalio.client import Client

from selfheal.client.incidents import incident_handle
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab import watch
from selfheal_lab.experiments import drive, observe
from selfheal_lab.experiments.figures import Figures
from selfheal_lab.experiments.stack import ExperimentStack, private_stack
from selfheal_lab.experiments.standins import STANDINS

NAMESPACE = "demo"
SCENARIO, DEPLOYMENT = "oom", "payments"
MODES = ("5xx", "hang")
REFUSAL_STATUS = 403
STORM_LIMIT = 10
"""Requests a permanently refusing stand-in may receive for one incident: more is a storm."""

REFUSAL_WORDS = {"kubernetes": "forbidden", "github": "403", "jira": "403"}


async def _open_incident(
    stack: ExperimentStack, standin: str, fail: Callable[[], object]
) -> tuple[str, dict[str, int]]:
    """Break the workload and open its incident, with `fail` applied at the moment it bites.

    JIRA is broken before the break (the first thing the incident does is open a ticket);
    Kubernetes and GitHub once the incident is open (the break itself goes through them).
    Returns the incident id and the Deployments' generations once the break rolled out.
    """
    client = await stack.client()
    if standin == "jira":
        fail()
    since = await drive.break_workload(stack, SCENARIO, DEPLOYMENT)
    incident_id = await watch.incident_about(client, DEPLOYMENT, since, timeout=120)
    generations = observe.deployment_generations(stack.kubernetes(), NAMESPACE)
    if standin != "jira":
        fail()
    return incident_id, generations


async def outage(
    standin: str,
    mode: str,
    seconds: float = 60,
    timeout: float = 600,
    say: Callable[[str], None] = print,
) -> Figures:
    """One stand-in fails (`5xx`) or hangs (`hang`) for `seconds` under an open incident."""
    figures = Figures(f"outage:{standin}:{mode}")
    started = time.monotonic()
    with private_stack({"SELFHEAL_AUTO_APPROVE": "always"}) as stack:
        client = await stack.client()
        target = stack.standin(standin)
        incident_id, generations = await _open_incident(
            stack,
            standin,
            lambda: target.fail(503, hang=mode == "hang", for_seconds=seconds),
        )
        failed_at = drive.now()
        say(f"  {standin} {'hangs' if mode == 'hang' else 'answers 503'} for {seconds:.0f} s")
        final = await drive.see_through(client, incident_id, timeout)
        injected = int(target.fault()["injected"])
        target.heal()  # the incident may end first; the counts below read the stand-in
        healed = failed_at.timestamp() + seconds
        figures.recovery_seconds["outage end → RESOLVED"] = max(
            final.timeline[-1].at.timestamp() - healed, 0.0
        )
        figures.extra[f"{standin} requests failed"] = injected
        # The last transition may still open the ticket after the state reads RESOLVED (an
        # escalated incident stays open for a person; its status is as final as it gets).
        ended = final
        if final.state == IncidentState.RESOLVED:
            ended = await incident_handle(client, incident_id).result()
        ticket = ended.ticket_key or await _caught_up_ticket(client, incident_id)
        await _count(figures, stack, incident_id, generations)
        if ticket is None:
            figures.fail(f"{incident_id} resolved without a ticket: {_ticket_notes(ended)}")
        elif ended.ticket_key is None:
            figures.extra["ticket"] = f"{ticket}, opened after the incident ended"
    figures.elapsed_seconds = time.monotonic() - started
    return figures


async def refusal(
    standin: str, timeout: float = 300, say: Callable[[str], None] = print
) -> Figures:
    """One stand-in answers 403 from now on: ESCALATED with the reason, and few requests."""
    figures = Figures(f"refusal:{standin}")
    started = time.monotonic()
    with private_stack({"SELFHEAL_AUTO_APPROVE": "always"}) as stack:
        client = await stack.client()
        target = stack.standin(standin)
        # The sandbox's alert monitor lists the namespace's Deployments too; refusing only
        # reads of the broken one counts selfheal's requests alone.
        only = f"/deployments/{DEPLOYMENT}" if standin == "kubernetes" else None
        incident_id, generations = await _open_incident(
            stack, standin, lambda: target.fail(REFUSAL_STATUS, path_contains=only)
        )
        say(f"  {standin} answers {REFUSAL_STATUS} to everything")
        final = await drive.see_through(client, incident_id, timeout)
        # Requests that arrive after the end are the storm, if there is one: give them time.
        await asyncio.sleep(5)
        injected = int(target.fault()["injected"])
        target.heal()
        figures.extra[f"{standin} requests refused"] = injected
        expected = IncidentState.RESOLVED if standin == "jira" else IncidentState.ESCALATED
        await _count(figures, stack, incident_id, generations, expected)
        reason = _ticket_notes(final) if standin == "jira" else final.escalation_reason or ""
        figures.extra["reason"] = reason
        if REFUSAL_WORDS[standin] not in reason.lower():
            figures.fail(f"the reason does not name the refusal: {reason!r}")
        if injected > STORM_LIMIT:
            figures.fail(f"retry storm: {injected} requests refused for one incident")
    figures.elapsed_seconds = time.monotonic() - started
    return figures


async def _count(
    figures: Figures,
    stack: ExperimentStack,
    incident_id: str,
    generations: dict[str, int],
    expected: IncidentState = IncidentState.RESOLVED,
) -> None:
    client = await stack.client()
    incidents = await observe.statuses(client, await observe.incident_ids(client))
    observe.tally(figures, incidents, {incident_id: expected})
    effects = observe.side_effects(
        stack.repository(), stack.jira(), stack.kubernetes(), NAMESPACE, generations, incidents
    )
    figures.duplicate_prs += effects.duplicate_prs
    figures.duplicate_tickets += effects.duplicate_tickets
    figures.duplicate_mutations += effects.duplicate_mutations
    for note in effects.notes:
        figures.fail(note)


async def _caught_up_ticket(client: Client, incident_id: str, timeout: float = 180) -> str | None:
    """The key the incident's TicketCatchUpWorkflow opened, once JIRA answered; None if none."""
    query = f"WorkflowType = 'TicketCatchUpWorkflow' AND WorkflowId STARTS_WITH '{incident_id}-'"
    try:
        async with asyncio.timeout(timeout):
            while True:  # visibility lists the workflow a moment after it started
                async for execution in client.list_workflows(query):
                    key: str | None = await client.get_workflow_handle(execution.id).result()
                    return key
                await asyncio.sleep(1)
    except TimeoutError:
        return None


def _ticket_notes(status: IncidentStatus) -> str:
    notes = [e.note for e in status.timeline if "ticket" in e.note.lower()]
    return "; ".join(notes) or "no ticket note"


async def run_outages(
    standins: tuple[str, ...] = STANDINS,
    modes: tuple[str, ...] = MODES,
    seconds: float = 60,
    say: Callable[[str], None] = print,
) -> Figures:
    """`outage` for each stand-in and mode, each on its own stack; the summed figures."""
    total = Figures("outage")
    started = time.monotonic()
    for standin in standins:
        for mode in modes:
            say(f"{standin} {mode} for {seconds:.0f} s")
            one = await outage(standin, mode, seconds, say=say)
            say(one.render())
            total.add(one)
            total.recovery_seconds[f"{standin} {mode}"] = one.recovery_seconds[
                "outage end → RESOLVED"
            ]
    total.recovery_seconds.pop("outage end → RESOLVED", None)
    total.elapsed_seconds = time.monotonic() - started
    return total


async def run_refusals(
    standins: tuple[str, ...] = STANDINS, say: Callable[[str], None] = print
) -> Figures:
    """`refusal` for each stand-in, each on its own stack; the summed figures."""
    total = Figures("refusal")
    started = time.monotonic()
    for standin in standins:
        say(f"{standin} refuses with {REFUSAL_STATUS}")
        one = await refusal(standin, say=say)
        say(one.render())
        total.add(one)
        total.extra[f"{standin} requests refused"] = one.extra[f"{standin} requests refused"]
    total.elapsed_seconds = time.monotonic() - started
    return total
