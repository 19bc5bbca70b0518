"""A worker process running the real IncidentWorkflow with journaled activity doubles.

Used by the crash tests: the test SIGKILLs this process and starts another, then reads
the journal to prove no activity's effect happened twice.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from temporalio.worker import Worker

from selfheal.activities.permits import PermitActivities
from selfheal.connection import connect
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from tests.workflow.doubles import FakeWorld


async def serve(task_queue: str, journal: Path) -> None:
    client = await connect()
    world = FakeWorld(journal=journal)
    workloads = f"{task_queue}-workloads"  # as `selfheal worker` serves them
    guard = PermitActivities(client, f"guard-{task_queue}", task_queue, workloads, task_queue)
    incidents = Worker(
        client,
        task_queue=task_queue,
        workflows=[IncidentWorkflow, *GUARD_WORKFLOWS],
        activities=[*world.activities(), guard.request_permit],
    )
    async with incidents, Worker(client, task_queue=workloads, workflows=[WorkloadWorkflow]):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--journal", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.task_queue, args.journal))
