"""Asking the guard workflow for a permit, from inside an incident."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

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


GUARD_CALLS = 8
"""Permit requests one worker has in flight at once: below Temporal's default limit of 10
in-flight updates per workflow, and few enough to leave the worker's pollers a connection."""


class GuardActivities:
    """The incident's door to the guard workflow."""

    def __init__(self, client: Client, workflow_id: str, task_queue: str) -> None:
        self._client = client
        self._workflow_id = workflow_id
        self._task_queue = task_queue
        self._in_flight = asyncio.Semaphore(GUARD_CALLS)

    @activity.defn
    async def request_permit(self, request: PermitRequest) -> Permit:
        """Ask the guard before changing anything; the same key always gets the same answer.

        At most GUARD_CALLS requests wait on the guard at once, and each gives up before the
        activity's own deadline. Unbounded, a thousand concurrent incidents each held a
        long-polling update on the worker's own connection, the worker's pollers starved, the
        guard never got its workflow task, and everything stalled (benchmarks/scale.py).
        """
        budget = activity.info().start_to_close_timeout
        seconds = max(budget.total_seconds() - 5, 1) if budget else 25
        try:
            async with asyncio.timeout(seconds), self._in_flight:
                return await request_permit(
                    self._client, self._workflow_id, self._task_queue, request
                )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            raise ApplicationError(
                f"the guard workflow {self._workflow_id} did not answer within {seconds:.0f}s",
                type="GuardBusy",
            ) from err
