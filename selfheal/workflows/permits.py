"""Asking before every change: the action limit, the kill switch and the anti-loop count.

A collaborator of IncidentWorkflow (workflow code: it calls the permit activity and waits).
While the kill switch is on, the incident waits here, noting it once, until `selfheal
unfreeze` wakes it (or it asks again every few minutes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.guard import REQUEST_PERMIT
    from selfheal.model.alerts import WorkloadRef
    from selfheal.model.guard import FreezeState, GuardNotice, PermitRequest
    from selfheal.model.incident import IncidentStatus
    from selfheal.model.policy import IncidentPolicy
    from selfheal.workflows import search
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.judgement import reason
    from selfheal.workflows.ticket_mirror import Note

FROZEN_RECHECK = timedelta(minutes=5)
"""While frozen, ask the guard again this often (unfreeze also wakes the incident at once)."""

Wait = Callable[[Callable[[], bool], timedelta], Awaitable[None]]
"""Waits for a condition or a timeout (or a history long enough to continue as new)."""


class Permits:
    """Asks the guard before each change and waits out a freeze."""

    def __init__(
        self,
        status: IncidentStatus,
        policy: Callable[[], IncidentPolicy],
        target: Callable[[], WorkloadRef],
        note: Note,
        wait: Wait,
    ) -> None:
        self._status = status
        self._policy = policy
        self._target = target
        self._note = note
        self._wait = wait
        self.freeze = FreezeState()
        self._changed = False

    async def ask(self, action: str, counts: bool = True) -> str | None:
        """Ask the guard before a change: None to go ahead, or why not. Waits while frozen.

        `counts` is off for undoing selfheal's own change (a rollback, a revert), which the
        action limit and the anti-loop count do not hold back.
        """
        policy, status = self._policy(), self._status
        if counts and status.actions_taken >= policy.max_actions:
            return (
                f"action limit reached: {status.actions_taken} of {policy.max_actions} "
                "actions per incident (SELFHEAL_MAX_ACTIONS)"
            )
        request = PermitRequest(
            incident_id=status.id,
            workload=f"{status.cluster}/{status.namespace}/{status.service}",
            target=self._target(),
            action=action,
            key=f"{status.id}/{status.attempt}/{status.actions_taken}/{action}",
            counts=counts,
            limit=policy.remediation_limit,
            window=policy.remediation_window,
        )
        waiting = False
        while True:
            try:
                permit = await call(REQUEST_PERMIT, request)
            except ActivityError as err:
                return f"the guard could not be asked: {reason(err)}"
            if permit.granted:
                if waiting:
                    self._note(status.state, f"unfrozen; going ahead to {action}", None)
                return None
            if permit.refusal:
                return permit.refusal
            if not waiting:
                self.freeze, waiting = permit.freeze, True
                freeze = permit.freeze
                self._note(
                    status.state,
                    f"remediation frozen by {freeze.by} ({freeze.reason or 'no reason'}); "
                    f"waiting to {action}",
                    None,
                )
                search.publish(status, frozen=True)
            self._changed = False
            await self._wait(lambda: self._changed, FROZEN_RECHECK)

    def switch_changed(self, notice: GuardNotice) -> str | None:
        """Note the kill switch turned on or off and wake a frozen wait; the timeline note,
        or None when it says what was already known."""
        freeze = notice.freeze
        if freeze.frozen == self.freeze.frozen:
            return None
        self.freeze, self._changed = freeze, True
        if freeze.frozen:
            return f"remediation frozen by {freeze.by}: {freeze.reason or 'no reason'}"
        return f"remediation unfrozen by {freeze.by}"
