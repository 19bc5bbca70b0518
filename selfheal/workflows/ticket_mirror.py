"""The incident's ticket and chat: opened once, told every transition, never in the way.

A collaborator of IncidentWorkflow (workflow code: it calls activities). JIRA or chat being
down never stops an incident: the failure goes to the timeline; a ticket an outage kept
away is asked for again at the next transition, and one still missing when the incident
ends is handed to a TicketCatchUpWorkflow of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.jira import (
        OPEN_TICKET,
        UPDATE_TICKET,
        TicketCatchUp,
        TicketRequest,
        TicketUpdate,
    )
    from selfheal.contracts.notify import NOTIFY, Notification
    from selfheal.model.incident import IncidentEnding, IncidentState, IncidentStatus
    from selfheal.model.policy import IncidentPolicy
    from selfheal.workflows import search
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.decision_chat import DecisionChat
    from selfheal.workflows.judgement import (
        alerts_summary,
        permanent,
        reason,
        recurrence,
        story,
    )
    from selfheal.workflows.patches import TICKET_REFUSAL
    from selfheal.workflows.ticket_catch_up import TicketCatchUpWorkflow

NOTIFIED_STATES = frozenset(
    {
        IncidentState.AWAITING_REVIEW,
        IncidentState.AWAITING_APPROVAL,
        IncidentState.ESCALATED,
        IncidentState.RESOLVED,
    }
)
"""Where chat hears of the incident: when it waits for people, and how it ends."""

Note = Callable[[IncidentState, str, str | None], None]
"""Adds a timeline entry: state, note, who."""


class TicketMirror:
    """Opens the incident's ticket and mirrors each transition to it, to chat notifications and
    to the Slack decision message (decision_chat.py)."""

    def __init__(
        self,
        status: IncidentStatus,
        policy: Callable[[], IncidentPolicy],
        note: Note,
        previous: IncidentEnding | None,
        failed_before: bool,
    ) -> None:
        self._status = status
        self._policy = policy
        self._note = note
        self._previous = previous
        # A ticket JIRA could not open is retried on later transitions (and after a continue-
        # as-new, where a carried status without a key means the first try failed).
        self._failed = failed_before
        self._chat = DecisionChat(status, policy, note)

    @property
    def outstanding(self) -> bool:
        """True when ticketing is on and an outage (not a refusal) kept the ticket away."""
        return self._policy().ticketing and self._status.ticket_key is None and self._failed

    async def open(self) -> None:
        """Open (or find, or link) the incident's ticket; a failure is noted, not raised."""
        try:
            ticket = await call(OPEN_TICKET, self._ticket())
        except ActivityError as err:
            # An outage may be over by the next transition; a refusal (permissions, a bad
            # project) will not be, and asking again at every transition only repeats it.
            self._failed = not (permanent(err) and workflow.patched(TICKET_REFUSAL))
            retry = "; trying again at the next transition" if self._failed else ""
            self._note(self._status.state, f"no ticket: {reason(err)}{retry}", None)
            return
        self._failed = False
        self._status.ticket_key, self._status.ticket_url = ticket.key, ticket.url
        note = f"ticket {ticket.key}" if ticket.key else f"no ticket: {ticket.note}"
        self._note(self._status.state, note, None)
        search.publish(self._status)

    async def mirror(self, state: IncidentState, note: str) -> None:
        """Tell the ticket and chat about a transition; their failure never stops the incident."""
        status, policy = self._status, self._policy()
        if self.outstanding:
            await self.open()  # JIRA was down when the incident opened: try again
        if status.ticket_key and policy.ticketing:
            try:
                await call(
                    UPDATE_TICKET,
                    TicketUpdate(
                        incident_id=status.id,
                        key=status.ticket_key,
                        state=state,
                        comment=note,
                        alerts=alerts_summary(status),
                    ),
                )
            except ActivityError as err:
                self._note(state, f"ticket not updated: {reason(err)}", None)
        if policy.notifications and state in NOTIFIED_STATES:
            try:
                await call(NOTIFY, Notification(incident_id=status.id, state=state, text=note))
            except ActivityError as err:
                self._note(state, f"notification not sent: {reason(err)}", None)
        await self._chat.follow(state, note)

    def _ticket(self) -> TicketRequest:
        """The ticket to open (or find, or link): the first alert's, naming any recurrence."""
        status, previous = self._status, self._previous
        alert = status.first_alert
        assert alert is not None
        description = alert.summary
        if previous is not None:
            earlier = f" ({previous.ticket_key})" if previous.ticket_key else ""
            again = recurrence(previous, workflow.now())
            description += f"\n\nThis is a recurrence: {again}{earlier}."
        return TicketRequest(
            incident_id=status.id,
            summary=f"[selfheal] {alert.workload or 'unmapped'}: {alert.name}",
            description=description,
            existing_key=alert.ticket_key,
            labels=["selfheal", status.id],
        )

    async def hand_over(self) -> None:
        """The incident has ended without its ticket: a workflow of its own opens it later."""
        status = self._status
        catch_up = await workflow.start_child_workflow(
            TicketCatchUpWorkflow.run,
            TicketCatchUp(ticket=self._ticket(), state=status.state, story=story(status)),
            id=f"{status.id}-ticket-{workflow.info().run_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._note(
            status.state,
            f"no ticket yet: JIRA did not answer while the incident ran; {catch_up.id} opens "
            "it once JIRA is back and writes this timeline there",
            None,
        )
