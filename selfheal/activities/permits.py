"""Asking the guard (kill switch and anti-loop ledger) for a permit, from inside an incident."""

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

from selfheal.contracts.guard import REQUEST_PERMIT
from selfheal.contracts.spec import implements
from selfheal.model.alerts import WorkloadRef
from selfheal.model.guard import (
    FreezeRequest,
    FreezeState,
    GuardState,
    LedgerState,
    Permit,
    PermitRequest,
    UnfreezeRequest,
)
from selfheal.model.workload import WorkloadInput
from selfheal.workflows.guard import FREEZE_MEMO, GuardWorkflow
from selfheal.workflows.ledger import RemediationLedgerWorkflow, ledger_id
from selfheal.workflows.workload import WorkloadWorkflow


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
    """The answer of a ledger started before workloads kept their own count (see
    count_on_workload): granted and recorded, or refused by the anti-loop limit."""
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


async def count_on_workload(
    client: Client, workload_task_queue: str, incident_task_queue: str, request: PermitRequest
) -> Permit:
    """The workload's own answer (its WorkloadWorkflow's `permit`): granted and counted, or
    refused by the anti-loop limit. Starts the workload if it is not running (an incident of
    an older scheme asking)."""
    target = request.target or _workload_of(request.workload)
    start = WithStartWorkflowOperation(
        WorkloadWorkflow.run,
        WorkloadInput(workload=target, incident_task_queue=incident_task_queue),
        id=target.workflow_id,
        task_queue=workload_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(
        WorkloadWorkflow.permit, request, start_workflow_operation=start
    )


def _workload_of(workload: str) -> WorkloadRef:
    """The Deployment a `cluster/namespace/deployment` permit of an older incident names."""
    cluster, namespace, name = workload.split("/", 2)
    return WorkloadRef(cluster=cluster, namespace=namespace, name=name)


async def _running(client: Client, workflow_id: str) -> bool:
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return description.status == WorkflowExecutionStatus.RUNNING


LEDGER_CALLS = 32
"""Ledger updates one worker has in flight at once. Each holds a long poll on the worker's
own connection until a workflow task answers it; unbounded, they crowd out the pollers that
would fetch those very tasks."""


class PermitActivities:
    """The incident's door to the guardrails."""

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        task_queue: str,
        workload_task_queue: str | None = None,
        incident_task_queue: str | None = None,
    ) -> None:
        self._client = client
        self._workflow_id = workflow_id
        self._task_queue = task_queue
        self._workload_task_queue = workload_task_queue or task_queue
        self._incident_task_queue = incident_task_queue or task_queue
        self._in_flight = asyncio.Semaphore(LEDGER_CALLS)

    @implements(REQUEST_PERMIT)
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
                return await self._count(request)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            raise ApplicationError(
                f"the remediation ledger for {request.workload} did not answer within "
                f"{seconds:.0f}s",
                type="GuardBusy",
            ) from err

    async def _count(self, request: PermitRequest) -> Permit:
        # A ledger of the earlier kind keeps counting its workload until its window is empty.
        earlier = ledger_id(self._workflow_id, request.workload)
        if await _running(self._client, earlier):
            return await count_remediation(
                self._client, self._workflow_id, self._task_queue, request
            )
        return await count_on_workload(
            self._client, self._workload_task_queue, self._incident_task_queue, request
        )
