"""GuardWorkflow: the kill switch and the anti-loop limit, durable in Temporal.

One long-lived workflow per task queue (id `selfheal-guard`). Every incident asks it for a
permit right before each change; `selfheal freeze` turns the switch. Because the switch is
workflow state, it survives worker and server restarts.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.domain import (
        FreezeRequest,
        FreezeState,
        GuardNotice,
        GuardState,
        Permit,
        PermitRequest,
        RemediationRecord,
        UnfreezeRequest,
    )

HISTORY_LIMIT = 2000
ANSWER_MEMORY = timedelta(days=2)
"""How long an answer is remembered for a retried permit request."""


@workflow.defn
class GuardWorkflow:
    """Grants, delays (frozen) or refuses (anti-loop) every remediation."""

    @workflow.init
    def __init__(self, state: GuardState) -> None:
        self._state = state

    @workflow.run
    async def run(self, state: GuardState) -> None:
        await workflow.wait_condition(
            lambda: (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() >= HISTORY_LIMIT
            )
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._forget_old_answers()
        workflow.continue_as_new(self._state)

    @workflow.update
    def permit(self, request: PermitRequest) -> Permit:
        """Answer one incident's request to change something."""
        remembered = self._state.answers.get(request.key)
        if remembered is not None:
            return remembered
        if self._state.freeze.frozen:
            if request.incident_id not in self._state.waiting:
                self._state.waiting.append(request.incident_id)
            return Permit(granted=False, freeze=self._state.freeze)
        answer = self._count(request) if request.counts else Permit(granted=True)
        answer.decided_at = workflow.now()
        self._state.answers[request.key] = answer
        return answer

    @workflow.update
    def freeze(self, request: FreezeRequest) -> FreezeState:
        """Turn the kill switch on: every permit waits until unfreeze."""
        self._state.freeze = FreezeState(
            frozen=True, by=request.by, reason=request.reason, at=workflow.now()
        )
        return self._state.freeze

    @workflow.update
    async def unfreeze(self, request: UnfreezeRequest) -> FreezeState:
        """Turn the kill switch off and wake the incidents that were waiting on it."""
        self._state.freeze = FreezeState(frozen=False, by=request.by, at=workflow.now())
        waiting, self._state.waiting = self._state.waiting, []
        notice = GuardNotice(freeze=self._state.freeze)

        async def wake(incident_id: str) -> None:
            try:
                await workflow.get_external_workflow_handle(incident_id).signal(
                    "guard_changed", notice
                )
            except Exception:  # an ended incident needs no wake-up
                workflow.logger.info("incident %s no longer running", incident_id)

        # All at once: a thousand waiting incidents must not hold the CLI for minutes.
        await asyncio.gather(*(wake(incident_id) for incident_id in waiting))
        return self._state.freeze

    @workflow.query
    def state(self) -> GuardState:
        """The switch, the recent remediations per workload, and who is waiting."""
        return self._state

    def _count(self, request: PermitRequest) -> Permit:
        since = workflow.now() - request.window
        recent = [r for r in self._state.remediations.get(request.workload, []) if r.at > since]
        if len(recent) >= request.limit:
            self._state.remediations[request.workload] = recent
            listing = "; ".join(
                f"{r.at:%Y-%m-%d %H:%M} {r.incident_id}: {r.action}" for r in recent
            )
            return Permit(
                granted=False,
                refusal=(
                    f"anti-loop: {request.workload} was remediated {len(recent)} times in the "
                    f"last {request.window} (limit {request.limit}): {listing}"
                ),
                earlier=recent,
            )
        recent.append(
            RemediationRecord(
                incident_id=request.incident_id, at=workflow.now(), action=request.action
            )
        )
        self._state.remediations[request.workload] = recent
        return Permit(granted=True)

    def _forget_old_answers(self) -> None:
        since = workflow.now() - ANSWER_MEMORY
        self._state.answers = {
            key: answer
            for key, answer in self._state.answers.items()
            if answer.decided_at is None or answer.decided_at > since
        }
