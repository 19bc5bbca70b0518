"""Asking the guard workflow for a permit, from inside an incident."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from selfheal.domain import (
    FreezeRequest,
    FreezeState,
    GuardState,
    Permit,
    PermitRequest,
    UnfreezeRequest,
)
from selfheal.workflows.guard import GuardWorkflow


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


async def request_permit(
    client: Client, workflow_id: str, task_queue: str, request: PermitRequest
) -> Permit:
    """The guard's answer to one request."""
    return await client.execute_update_with_start_workflow(
        GuardWorkflow.permit, request, start_workflow_operation=guard_start(workflow_id, task_queue)
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


class GuardActivities:
    """The incident's door to the guard workflow."""

    def __init__(self, client: Client, workflow_id: str, task_queue: str) -> None:
        self._client = client
        self._workflow_id = workflow_id
        self._task_queue = task_queue

    @activity.defn
    async def request_permit(self, request: PermitRequest) -> Permit:
        """Ask the guard before changing anything; the same key always gets the same answer."""
        return await request_permit(self._client, self._workflow_id, self._task_queue, request)
