"""The kill switch from the outside: turn it and tell running incidents (read it with
`selfheal.activities.permits.read_freeze`)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from selfheal.activities.permits import set_freeze
from selfheal.model.guard import FreezeRequest, FreezeState, GuardNotice, UnfreezeRequest
from selfheal.workflows.incident import IncidentWorkflow

RUNNING_INCIDENTS = "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running'"


async def turn(
    client: Client, guard_id: str, task_queue: str, request: FreezeRequest | UnfreezeRequest
) -> tuple[FreezeState, int]:
    """Freeze or unfreeze; return the new state and how many running incidents were told."""
    state = await set_freeze(client, guard_id, task_queue, request)
    notice = GuardNotice(freeze=state)
    semaphore = asyncio.Semaphore(20)

    async def tell(incident_id: str) -> bool:
        async with semaphore:
            try:
                await client.get_workflow_handle(incident_id).signal(
                    IncidentWorkflow.guard_changed, notice
                )
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return False  # ended since it was listed
                raise
            return True

    running = [execution.id async for execution in client.list_workflows(RUNNING_INCIDENTS)]
    told = await asyncio.gather(*(tell(incident_id) for incident_id in running))
    return state, sum(told)
