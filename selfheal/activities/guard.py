"""Asking the guardrails for a permit, from inside an incident; turning the kill switch."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from selfheal.domain import (
    FreezeRequest,
    FreezeState,
    GuardState,
    LedgerState,
    Permit,
    PermitRequest,
    UnfreezeRequest,
)
from selfheal.workflows.guard import FREEZE_MEMO, GuardWorkflow
from selfheal.workflows.ledger import RemediationLedgerWorkflow, ledger_id


def guard_start(
    workflow_id: str, task_queue: str
) -> WithStartWorkflowOperation[GuardWorkflow, None]:
    """Start the guard if it is not running yet (every caller may be the first)."""
    return WithStartWorkflowOperation(
        GuardWorkflow.run,
        GuardState(),
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def set_freeze(
    client: Client, workflow_id: str, task_queue: str, request: FreezeRequest | UnfreezeRequest
) -> FreezeState:
    """Turn the kill switch on (FreezeRequest) or off (UnfreezeRequest)."""
    update = GuardWorkflow.freeze if isinstance(request, FreezeRequest) else GuardWorkflow.unfreeze
    return await client.execute_update_with_start_workflow(
        update,  # type: ignore[arg-type]
        request,
        start_workflow_operation=guard_start(workflow_id, task_queue),
    )


async def read_freeze(client: Client, workflow_id: str) -> FreezeState:
    """The switch as the guard last published it; off when no guard runs.

    Read from the guard's memo, which the server answers alone: no worker, no history. A
    guard that is not running (never started, or terminated by hand) is off, as the fresh
    one that the next freeze or unfreeze starts would be.
    """
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return FreezeState()
        raise
    if description.status != WorkflowExecutionStatus.RUNNING:
        return FreezeState()
    state: FreezeState = await description.memo_value(
        FREEZE_MEMO, FreezeState(), type_hint=FreezeState
    )
    return state


async def count_remediation(
    client: Client, guard_workflow_id: str, task_queue: str, request: PermitRequest
) -> Permit:
    """The workload's ledger answer: granted and recorded, or refused by the anti-loop limit."""
    start = WithStartWorkflowOperation(
        RemediationLedgerWorkflow.run,
        LedgerState(workload=request.workload, window=request.window),
        id=ledger_id(guard_workflow_id, request.workload),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(
        RemediationLedgerWorkflow.permit, request, start_workflow_operation=start
    )


LEDGER_CALLS = 32
"""Ledger updates one worker has in flight at once. Each holds a long poll on the worker's
own connection until a workflow task answers it; unbounded, they crowd out the pollers that
would fetch those very tasks."""


class GuardActivities:
    """The incident's door to the guardrails."""

    def __init__(self, client: Client, workflow_id: str, task_queue: str) -> None:
        self._client = client
        self._workflow_id = workflow_id
        self._task_queue = task_queue
        self._in_flight = asyncio.Semaphore(LEDGER_CALLS)

    @activity.defn
    async def request_permit(self, request: PermitRequest) -> Permit:
        """Ask before changing anything: wait while frozen, refuse past the anti-loop limit.

        The same key always gets the same ledger answer, so a retried request is not counted
        twice. Each attempt gives up before the activity's own deadline.
        """
        freeze = await read_freeze(self._client, self._workflow_id)
        if freeze.frozen:
            await self._client.get_workflow_handle(self._workflow_id).signal(
                GuardWorkflow.waiting, request.incident_id
            )
            return Permit(granted=False, freeze=freeze)
        if not request.counts:
            return Permit(granted=True)
        budget = activity.info().start_to_close_timeout
        seconds = max(budget.total_seconds() - 5, 1) if budget else 25
        try:
            async with asyncio.timeout(seconds), self._in_flight:
                return await count_remediation(
                    self._client, self._workflow_id, self._task_queue, request
                )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            raise ApplicationError(
                f"the remediation ledger for {request.workload} did not answer within "
                f"{seconds:.0f}s",
                type="GuardBusy",
            ) from err
