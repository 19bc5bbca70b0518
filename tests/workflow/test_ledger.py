"""The guard workflows on the time-skipping server: the remediation count a workload keeps
(counting, idempotency, refusal), the ledgers of the earlier kind (the same, and their end
once the window is empty) and the switch across continue-as-new."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.permits import (
    count_on_workload,
    count_remediation,
    read_freeze,
    set_freeze,
)
from selfheal.model.alerts import WorkloadRef
from selfheal.model.guard import FreezeRequest, PermitRequest
from selfheal.workflows.guard import GUARD_WORKFLOWS, GuardWorkflow
from selfheal.workflows.guard import HISTORY_LIMIT as GUARD_HISTORY_LIMIT
from selfheal.workflows.ledger import RemediationLedgerWorkflow, ledger_id
from selfheal.workflows.workload import WorkloadWorkflow

WINDOW = timedelta(hours=1)


@asynccontextmanager
async def guard_worker(env: WorkflowEnvironment) -> AsyncIterator[tuple[str, str]]:
    """A worker for the guard workflows; yields (task queue, guard id)."""
    queue = f"ledger-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=GUARD_WORKFLOWS):
        yield queue, f"guard-{queue}"


def permit(workload: str, incident: str, limit: int = 2) -> PermitRequest:
    return PermitRequest(
        incident_id=incident,
        workload=workload,
        action="apply increase_memory",
        key=f"{incident}/1/0/apply",
        limit=limit,
        window=WINDOW,
    )


async def test_a_workload_counts_a_key_once_and_refuses_past_the_limit_naming_the_earlier(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    queue = f"workloads-{uuid.uuid4().hex[:8]}"
    name = f"flappy-{uuid.uuid4().hex[:6]}"
    target = WorkloadRef(cluster="sandbox", namespace="demo", name=name)
    calm = WorkloadRef(cluster="sandbox", namespace="demo", name=f"calm-{uuid.uuid4().hex[:6]}")

    def ask(workload: WorkloadRef, incident: str) -> PermitRequest:
        request = permit(f"{workload.cluster}/{workload.namespace}/{workload.name}", incident)
        return request.model_copy(update={"target": workload})

    async with Worker(client, task_queue=queue, workflows=[WorkloadWorkflow]):
        first = await count_on_workload(client, queue, queue, ask(target, "inc-a"))
        again = await count_on_workload(client, queue, queue, ask(target, "inc-a"))
        second = await count_on_workload(client, queue, queue, ask(target, "inc-b"))
        third = await count_on_workload(client, queue, queue, ask(target, "inc-c"))
        other = await count_on_workload(client, queue, queue, ask(calm, "x"))
        memory = await client.get_workflow_handle(target.workflow_id).query(WorkloadWorkflow.memory)
        for workload in (target, calm):
            await client.get_workflow_handle(workload.workflow_id).terminate("test over")
    assert first.granted and again.granted and second.granted and other.granted
    assert again.decided_at == first.decided_at
    assert not third.granted
    assert third.refusal.startswith(f"anti-loop: sandbox/demo/{name} was remediated 2 times")
    assert [record.incident_id for record in third.earlier] == ["inc-a", "inc-b"]
    assert memory.ledger is not None and len(memory.ledger.records) == 2


async def test_an_earlier_ledger_counts_a_key_once_and_refuses_naming_the_earlier(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    async with guard_worker(time_skipping_env) as (queue, guard_id):
        workload = "sandbox/demo/flappy"
        first = await count_remediation(client, guard_id, queue, permit(workload, "inc-a"))
        again = await count_remediation(client, guard_id, queue, permit(workload, "inc-a"))
        second = await count_remediation(client, guard_id, queue, permit(workload, "inc-b"))
        third = await count_remediation(client, guard_id, queue, permit(workload, "inc-c"))
        other = await count_remediation(client, guard_id, queue, permit("sandbox/demo/calm", "x"))
    assert first.granted and again.granted and second.granted and other.granted
    assert again.decided_at == first.decided_at
    assert not third.granted
    assert third.refusal.startswith(f"anti-loop: {workload} was remediated 2 times")
    assert [record.incident_id for record in third.earlier] == ["inc-a", "inc-b"]


async def test_the_ledger_ends_once_its_window_is_empty_and_a_later_request_starts_fresh(
    own_time_skipping_env: WorkflowEnvironment,
) -> None:
    env = own_time_skipping_env
    async with guard_worker(env) as (queue, guard_id):
        workload = "sandbox/demo/flappy"
        for incident in ("inc-a", "inc-b"):
            assert (
                await count_remediation(env.client, guard_id, queue, permit(workload, incident))
            ).granted
        handle = env.client.get_workflow_handle(ledger_id(guard_id, workload))
        first_run = (await handle.describe()).run_id
        await env.sleep(WINDOW + timedelta(minutes=1))
        await handle.result()
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

        later = await count_remediation(env.client, guard_id, queue, permit(workload, "inc-c"))
        fresh = env.client.get_workflow_handle(ledger_id(guard_id, workload))
        state = await fresh.query(RemediationLedgerWorkflow.state)
    assert later.granted
    assert (await fresh.describe()).run_id != first_run
    assert [record.incident_id for record in state.records] == ["inc-c"]


async def test_the_switch_reads_off_before_the_guard_ever_ran(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    state = await read_freeze(time_skipping_env.client, f"never-started-{uuid.uuid4().hex[:6]}")
    assert not state.frozen


async def test_the_switch_stays_on_across_the_guards_continue_as_new(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    async with guard_worker(time_skipping_env) as (queue, guard_id):
        await set_freeze(client, guard_id, queue, FreezeRequest(by="sre", reason="drill"))
        handle = client.get_workflow_handle(guard_id)
        first_run = (await handle.describe()).run_id
        sent = 0
        latest_run = first_run
        while latest_run == first_run and sent < 3 * GUARD_HISTORY_LIMIT:
            for _ in range(100):
                await handle.signal(GuardWorkflow.waiting, f"inc-{sent}")
                sent += 1
            # Continue-as-new is refused while signals keep arriving; pause to let it through.
            for _ in range(10):
                await asyncio.sleep(0.2)
                latest_run = (await client.get_workflow_handle(guard_id).describe()).run_id
                if latest_run != first_run:
                    break
        assert latest_run != first_run, f"no continue-as-new after {sent} signals"
        assert (await read_freeze(client, guard_id)).frozen
        state = await client.get_workflow_handle(guard_id).query(GuardWorkflow.state)
    assert state.freeze.by == "sre"
    assert len(state.waiting) <= sent
    assert "inc-0" in state.waiting


async def test_a_guard_terminated_by_hand_reads_off_and_the_next_freeze_starts_a_fresh_one(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    async with guard_worker(time_skipping_env) as (queue, guard_id):
        await set_freeze(client, guard_id, queue, FreezeRequest(by="sre", reason="drill"))
        assert (await read_freeze(client, guard_id)).frozen
        await client.get_workflow_handle(guard_id).terminate("reset by hand")
        assert not (await read_freeze(client, guard_id)).frozen
        await set_freeze(client, guard_id, queue, FreezeRequest(by="oncall", reason="again"))
        again = await read_freeze(client, guard_id)
    assert again.frozen and again.by == "oncall"
