"""TicketCatchUpWorkflow: the ticket of an incident that ended while JIRA was down.

The remediation never waits for JIRA, so a fast incident can end inside a JIRA outage
without its ticket. Rather than keep the incident open (a new alert about the workload
would then join a finished incident instead of starting a new one), the incident hands the
ticket to this workflow as it ends. It opens the ticket once JIRA answers, writes the whole
timeline there as one comment and moves it to the state the incident ended in.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.jira import (
        OPEN_TICKET_LATER,
        UPDATE_TICKET_LATER,
        TicketCatchUp,
        TicketUpdate,
    )
    from selfheal.workflows.activity_calls import call


@workflow.defn
class TicketCatchUpWorkflow:
    """Open an ended incident's ticket once JIRA is back and tell it what happened."""

    @workflow.run
    async def run(self, request: TicketCatchUp) -> str | None:
        """Return the ticket's key, or None if JIRA refused or stayed away for hours."""
        try:
            ticket = await call(OPEN_TICKET_LATER, request.ticket)
        except ActivityError:
            return None
        if ticket.key is None:
            return None
        comment = (
            "selfheal could not reach JIRA while this incident ran; its timeline:\n\n"
            + request.story
        )
        try:
            await call(
                UPDATE_TICKET_LATER,
                TicketUpdate(
                    incident_id=request.ticket.incident_id,
                    key=ticket.key,
                    state=request.state,
                    comment=comment,
                ),
            )
        except ActivityError:
            workflow.logger.warning("ticket %s opened without the incident's story", ticket.key)
        return ticket.key
