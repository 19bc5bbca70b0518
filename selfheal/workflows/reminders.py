"""Reminders before a human wait's deadline (SELFHEAL_REMINDERS, e.g. 50%,90%).

Workflow code. When a wait starts, its reminder times are planned into the status (so a
continue-as-new keeps them); the wait sleeps until the next one (a durable timer), and each
that comes due is a timeline entry, which the ticket and the Slack thread hear of like any
other. Plain arithmetic is in `plan` and `reminder_note`, tested without a server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.model.incident import IncidentState, IncidentStatus
    from selfheal.model.policy import IncidentPolicy
    from selfheal.workflows.judgement import human
    from selfheal.workflows.patches import CHAT_DECISIONS

Record = Callable[[IncidentState, str], Awaitable[None]]
"""Adds a timeline entry without changing state, and tells the ticket and chat."""

_WAITS = {
    IncidentState.AWAITING_REVIEW: "the pull request's review",
    IncidentState.AWAITING_APPROVAL: "the approval",
    IncidentState.ESCALATED: "a person",
}
_AFTER = {
    IncidentState.AWAITING_REVIEW: "it escalates",
    IncidentState.AWAITING_APPROVAL: "it escalates",
    IncidentState.ESCALATED: "it closes unattended",
}


def plan(start: datetime, timeout: timedelta, fractions: list[float]) -> list[datetime]:
    """When a wait of `timeout` from `start` reminds: at each fraction of it, in order."""
    return [start + timeout * fraction for fraction in sorted(fractions)]


def reminder_note(state: IncidentState, left: timedelta, timeout: timedelta) -> str:
    """`reminder: 2h left of 4h waiting for the approval; then it escalates`."""
    waiting = _WAITS.get(state, "a decision")
    after = _AFTER.get(state, "it escalates")
    return f"reminder: {human(left)} left of {human(timeout)} waiting for {waiting}; then {after}"


class Reminders:
    """Plans a human wait's reminders and sends those that come due."""

    def __init__(
        self, status: IncidentStatus, policy: Callable[[], IncidentPolicy], record: Record
    ) -> None:
        self._status = status
        self._policy = policy
        self._record = record

    def plan(self, timeout: timedelta) -> None:
        """Plan the reminders of a wait that starts now and lasts `timeout`."""
        fractions = self._policy().reminders
        if fractions and workflow.patched(CHAT_DECISIONS):
            self._status.reminders = plan(workflow.now(), timeout, fractions)
        else:
            self._status.reminders = []

    def cap(self, wait: timedelta) -> timedelta:
        """`wait`, or less: until the next reminder, when one comes first."""
        if not self._status.reminders:
            return wait
        return min(wait, max(self._status.reminders[0] - workflow.now(), timedelta(0)))

    async def send_due(self) -> None:
        """Send every reminder of the current wait whose time has come."""
        status = self._status
        while status.reminders and status.reminders[0] <= workflow.now():
            due = status.reminders.pop(0)
            if status.deadline is None:
                continue
            timeout = self._timeout(status.state)
            await self._record(
                status.state, reminder_note(status.state, status.deadline - due, timeout)
            )

    def _timeout(self, state: IncidentState) -> timedelta:
        policy = self._policy()
        if state == IncidentState.AWAITING_REVIEW:
            return policy.review_timeout
        if state == IncidentState.AWAITING_APPROVAL:
            return policy.approval_timeout
        return policy.escalation_timeout
