"""A worker process running the investigation against the model named by its environment.

Used by the crash test, which SIGKILLs it between two model turns and starts another.
It caches no workflows, so the next worker takes over at once instead of waiting for the
dead worker's sticky queue to time out.
"""

from __future__ import annotations

import argparse
import asyncio

from temporalio.worker import Worker

from selfheal.activities.claude.activities import investigation_activities
from selfheal.connection import connect
from selfheal.settings import load_settings
from selfheal.workflows.investigation import InvestigationWorkflow


async def serve(task_queue: str) -> None:
    client = await connect()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[InvestigationWorkflow],
        activities=investigation_activities(load_settings()),
        max_cached_workflows=0,
    ):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-queue", required=True)
    asyncio.run(serve(parser.parse_args().task_queue))
