"""On the real dev server: the keep-alive interceptor heartbeats activities that never do.

Each activity here runs three times longer than its heartbeat timeout and never heartbeats
itself; only the worker's KeepAliveInterceptor keeps the server from timing it out.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, Worker

from selfheal.workers.keepalive import KeepAliveInterceptor

BEAT = timedelta(milliseconds=300)
HEARTBEAT_TIMEOUT = timedelta(seconds=1)
RUNS_FOR = 3.0


@activity.defn
def slow_in_thread() -> str:
    """A sync activity in the thread pool: it reports progress once, then works on."""
    activity.heartbeat("progress: step 1 of 2")
    time.sleep(RUNS_FOR)
    return "thread done"


@activity.defn
async def slow_on_loop() -> str:
    await asyncio.sleep(RUNS_FOR)
    return "loop done"


@workflow.defn
class SlowSteps:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            name,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
            result_type=str,
        )


def worker(
    env: WorkflowEnvironment, queue: str, executor: ThreadPoolExecutor, keepalive: bool
) -> Worker:
    interceptors: list[Interceptor] = [KeepAliveInterceptor(BEAT)] if keepalive else []
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[SlowSteps],
        activities=[slow_in_thread, slow_on_loop],
        activity_executor=executor,
        interceptors=interceptors,
        max_heartbeat_throttle_interval=BEAT,
    )


@pytest.mark.parametrize("name", ["slow_in_thread", "slow_on_loop"])
async def test_activity_outlives_its_heartbeat_timeout_while_the_worker_lives(
    dev_server_env: WorkflowEnvironment, name: str
) -> None:
    queue = f"keepalive-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(4) as executor:
        async with worker(dev_server_env, queue, executor, keepalive=True):
            result = await dev_server_env.client.execute_workflow(
                SlowSteps.run, name, id=f"{queue}-{name}", task_queue=queue
            )
    assert result.endswith("done")


async def test_without_it_the_same_activity_times_out(
    dev_server_env: WorkflowEnvironment,
) -> None:
    queue = f"keepalive-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(4) as executor:
        async with worker(dev_server_env, queue, executor, keepalive=False):
            with pytest.raises(WorkflowFailureError) as failure:
                await dev_server_env.client.execute_workflow(
                    SlowSteps.run, "slow_on_loop", id=f"{queue}-bare", task_queue=queue
                )
    cause = failure.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, TimeoutError)
    assert cause.cause.type == TimeoutType.HEARTBEAT


async def test_keepalive_beats_repeat_the_activitys_own_progress_note(
    dev_server_env: WorkflowEnvironment,
) -> None:
    queue = f"keepalive-{uuid.uuid4().hex[:8]}"
    client = dev_server_env.client
    with ThreadPoolExecutor(4) as executor:
        async with worker(dev_server_env, queue, executor, keepalive=True):
            handle = await client.start_workflow(
                SlowSteps.run, "slow_in_thread", id=f"{queue}-note", task_queue=queue
            )
            await asyncio.sleep(RUNS_FOR / 2)  # several keep-alive beats after the note
            description = await handle.describe()
            pending = description.raw_description.pending_activities
            assert len(pending) == 1
            details = [
                client.data_converter.payload_converter.from_payload(payload, str)
                for payload in pending[0].heartbeat_details.payloads
            ]
            assert details == ["progress: step 1 of 2"]
            assert await handle.result() == "thread done"
