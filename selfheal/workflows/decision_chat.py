"""The incident's decision message in Slack: posted when it waits for a decision, updated at
every later transition, the transition's note said in its thread.

A collaborator of TicketMirror (workflow code: it calls the `publish_decision` activity).
One message per attempt: a retried incident's next decision wait posts a new one, and the
old one, told of the retry, keeps no buttons. Slack being down never stops the incident.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.slack import PUBLISH_DECISION, DecisionCard, DecisionPost
    from selfheal.model.incident import IncidentState, IncidentStatus
    from selfheal.model.policy import IncidentPolicy
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.judgement import DECISION_STATES, reason
    from selfheal.workflows.patches import CHAT_DECISIONS

Note = Callable[[IncidentState, str, str | None], None]


class DecisionChat:
    """Keeps the incident's Slack decision message in step with the incident."""

    def __init__(
        self, status: IncidentStatus, policy: Callable[[], IncidentPolicy], note: Note
    ) -> None:
        self._status = status
        self._policy = policy
        self._note = note
        self._said_why_not = False

    async def follow(self, state: IncidentState, note: str) -> None:
        """Post the message when a decision wait begins; else update the latest one and say
        `note` in its thread. Nothing before the first decision wait, nor without Slack."""
        status = self._status
        if not self._policy().chat or not workflow.patched(CHAT_DECISIONS):
            return
        latest = status.chat
        new_wait = state in DECISION_STATES and (latest is None or latest.attempt != status.attempt)
        if latest is None and not new_wait:
            return
        request = DecisionPost(card=self._card(state, note))
        if not new_wait:
            request.message = latest
            request.thread_note = note
            request.note_key = f"{workflow.info().run_id}:{len(status.timeline)}"
        try:
            posted = await call(PUBLISH_DECISION, request)
        except ActivityError as err:
            self._note(state, f"Slack not updated: {reason(err)}", None)
            return
        if posted.message is not None:
            status.chat = posted.message
        elif not self._said_why_not:
            self._said_why_not = True
            self._note(state, posted.note, None)

    def _card(self, state: IncidentState, note: str) -> DecisionCard:
        status = self._status
        return DecisionCard(
            incident_id=status.id,
            attempt=status.attempt,
            state=state,
            note=note,
            namespace=status.namespace,
            service=status.service,
            cluster=status.cluster,
            diagnosis=status.diagnosis,
            fix=status.fix,
            pr_url=status.pr_url,
            ticket_key=status.ticket_key,
            ticket_url=status.ticket_url,
            deadline=status.deadline,
            opened_at=status.timeline[0].at if status.timeline else workflow.now(),
        )
