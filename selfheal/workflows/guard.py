"""GuardWorkflow: the kill switch, durable in Temporal.

One long-lived workflow per task queue (id `selfheal-guard`); `selfheal freeze` and
`unfreeze` turn it with an update. The switch is workflow state, so it survives worker and
server restarts, and it is mirrored into the workflow's memo so every incident can read it
with a describe call, answered by the server alone: a thousand incidents checking the
switch put no work on the guard. An incident that finds it on tells the guard it is waiting,
and unfreeze wakes every waiting incident.

The anti-loop limit lives next door, one small workflow per workload (workflows/ledger.py).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.model.guard import (
        FreezeRequest,
        FreezeState,
        GuardNotice,
        GuardState,
        UnfreezeRequest,
    )

from selfheal.workflows.ledger import RemediationLedgerWorkflow

HISTORY_LIMIT = 2000
FREEZE_MEMO = "freeze"
"""The memo key holding the switch's FreezeState."""


@workflow.defn
class GuardWorkflow:
    """Holds the kill switch, publishes it in the memo, and wakes waiting incidents."""

    @workflow.init
    def __init__(self, state: GuardState) -> None:
        self._state = state

    @workflow.run
    async def run(self, state: GuardState) -> None:
        self._publish()
        await workflow.wait_condition(
            lambda: (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() >= HISTORY_LIMIT
            )
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        # The memo goes along explicitly: no moment in which a reader finds the switch unset.
        workflow.continue_as_new(self._state, memo={FREEZE_MEMO: self._state.freeze})

    @workflow.update
    def freeze(self, request: FreezeRequest) -> FreezeState:
        """Turn the kill switch on: every later permit waits until unfreeze."""
        self._state.freeze = FreezeState(
            frozen=True, by=request.by, reason=request.reason, at=workflow.now()
        )
        self._publish()
        return self._state.freeze

    @workflow.update
    async def unfreeze(self, request: UnfreezeRequest) -> FreezeState:
        """Turn the kill switch off and wake the incidents that were waiting on it."""
        self._state.freeze = FreezeState(frozen=False, by=request.by, at=workflow.now())
        self._publish()
        waiting, self._state.waiting = self._state.waiting, []
        await self._wake(waiting)
        return self._state.freeze

    @workflow.signal
    async def waiting(self, incident_id: str) -> None:
        """An incident found the switch on and waits; wake it at once if it is off by now."""
        if self._state.freeze.frozen:
            if incident_id not in self._state.waiting:
                self._state.waiting.append(incident_id)
        else:
            await self._wake([incident_id])

    @workflow.query
    def state(self) -> GuardState:
        """The switch and who is waiting on it."""
        return self._state

    def _publish(self) -> None:
        workflow.upsert_memo({FREEZE_MEMO: self._state.freeze})

    async def _wake(self, incident_ids: list[str]) -> None:
        notice = GuardNotice(freeze=self._state.freeze)

        async def wake(incident_id: str) -> None:
            try:
                await workflow.get_external_workflow_handle(incident_id).signal(
                    "guard_changed", notice
                )
            except Exception:  # an ended incident needs no wake-up
                workflow.logger.info("incident %s no longer running", incident_id)

        # All at once: a thousand waiting incidents must not hold the CLI for minutes.
        await asyncio.gather(*(wake(incident_id) for incident_id in incident_ids))


GUARD_WORKFLOWS: list[type] = [GuardWorkflow, RemediationLedgerWorkflow]
"""What a worker runs for the guardrails: the switch and the per-workload ledgers."""
