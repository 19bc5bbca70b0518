"""Guardrails on the time-skipping server: kill switch, anti-loop, namespaces, action limits."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.testing import WorkflowEnvironment

from selfheal.activities.permits import set_freeze
from selfheal.client.incidents import incident_handle, incident_status
from selfheal.model.alerts import Alert
from selfheal.model.decisions import Approval
from selfheal.model.diagnosis import ActionKind, FixKind, FixProposal, RiskLevel
from selfheal.model.guard import FreezeRequest, UnfreezeRequest
from selfheal.model.incident import IncidentState
from selfheal.model.policy import AutoApprovePolicy
from selfheal.workflows.incident import IncidentWorkflow
from tests.delivery import deliver
from tests.workflow.doubles import FakeWorld, memory_fix
from tests.workflow.test_incident_workflow import UI, demo_policy, running, wait_for_state


def direct_alert(
    workload: str, name: str = "KubePodCrashLooping", namespace: str = "demo"
) -> Alert:
    return Alert(
        name=name, namespace=namespace, workload=workload, labels={"selfheal_mode": "direct"}
    )


async def test_fourth_remediation_in_a_day_escalates_listing_the_three_before(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.ALWAYS))
    client = time_skipping_env.client
    workload = f"flappy-{uuid.uuid4().hex[:6]}"
    async with running(time_skipping_env, world) as queue:
        earlier = []
        for name in ("KubePodCrashLooping", "KubePodNotReady", "KubeContainerOOMKilled"):
            delivery = await deliver(client, direct_alert(workload, name), queue, UI)
            final = await incident_handle(client, delivery.incident_id).result()
            assert final.state == IncidentState.RESOLVED
            earlier.append(delivery.incident_id)
        fourth = await deliver(
            client, direct_alert(workload, "KubeDeploymentReplicasMismatch"), queue, UI
        )
        status = await wait_for_state(client, fourth.incident_id, IncidentState.ESCALATED)
    reason = status.escalation_reason or ""
    assert reason.startswith("anti-loop:")
    assert all(incident_id in reason for incident_id in earlier)
    assert world.calls["apply_remediation"] == 3


async def test_freeze_halts_every_mutation_until_unfreeze(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld()
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        guard_id = f"guard-{queue}"
        ids = []
        for _ in range(5):
            delivery = await deliver(client, direct_alert(f"svc-{uuid.uuid4().hex[:6]}"), queue, UI)
            ids.append(delivery.incident_id)
        for incident_id in ids:
            await wait_for_state(client, incident_id, IncidentState.AWAITING_APPROVAL)
        frozen = await set_freeze(client, guard_id, queue, FreezeRequest(by="sre", reason="outage"))
        assert frozen.frozen
        for incident_id in ids:
            await incident_handle(client, incident_id).signal(
                IncidentWorkflow.approve, Approval(by="alice")
            )

        async def all_waiting_on_freeze() -> bool:
            statuses = [await incident_status(client, i) for i in ids]
            return all("remediation frozen by sre" in s.timeline[-1].note for s in statuses)

        for _ in range(100):
            if await all_waiting_on_freeze():
                break
            await asyncio.sleep(0.05)
        assert await all_waiting_on_freeze()
        assert world.calls["apply_remediation"] == 0

        await set_freeze(client, guard_id, queue, UnfreezeRequest(by="sre"))
        finals = [await incident_handle(client, i).result() for i in ids]
    assert all(final.state == IncidentState.RESOLVED for final in finals)
    assert world.calls["apply_remediation"] == 5


async def test_namespace_outside_the_allow_list_is_never_changed(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(fix=memory_fix(namespace="payments"))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(
            client, direct_alert(f"ledger-{uuid.uuid4().hex[:6]}", namespace="payments"), queue, UI
        )
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert "not in SELFHEAL_NAMESPACES" in (status.escalation_reason or "")
    assert world.calls["apply_remediation"] == 0


async def test_kube_system_is_refused_even_when_allowed(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(
        policy=demo_policy(namespaces=["kube-system"]), fix=memory_fix(namespace="kube-system")
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(
            client,
            direct_alert(f"coredns-{uuid.uuid4().hex[:6]}", namespace="kube-system"),
            queue,
            UI,
        )
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert "never changed" in (status.escalation_reason or "")
    assert world.calls["apply_remediation"] == 0


async def test_destructive_fix_needs_the_switch(time_skipping_env: WorkflowEnvironment):
    fix = memory_fix()
    assert fix.action is not None
    fix.action.kind, fix.action.revision = ActionKind.ROLLBACK, 2
    world = FakeWorld(fix=fix)
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(
            client, direct_alert(f"checkout-{uuid.uuid4().hex[:6]}"), queue, UI
        )
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert "SELFHEAL_ALLOW_DESTRUCTIVE" in (status.escalation_reason or "")


async def test_action_limit_per_incident(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(policy=demo_policy(max_actions=0))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(
            client, direct_alert(f"checkout-{uuid.uuid4().hex[:6]}"), queue, UI
        )
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_APPROVAL)
        await incident_handle(client, delivery.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice")
        )
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert "SELFHEAL_MAX_ACTIONS" in (status.escalation_reason or "")
    assert world.calls["apply_remediation"] == 0


def rollback_fix() -> FixProposal:
    fix = memory_fix()
    assert fix.action is not None
    fix.kind, fix.risk = FixKind.ROLLBACK_IMAGE, RiskLevel.MEDIUM
    fix.action.kind, fix.action.revision, fix.action.patch = ActionKind.ROLLBACK, 2, {}
    return fix


async def test_a_reviewed_gitops_rollback_needs_no_destructive_switch(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(fix=rollback_fix())
    client = time_skipping_env.client
    alert = Alert(
        name="KubePodCrashLooping", namespace="demo", workload=f"web-{uuid.uuid4().hex[:6]}"
    )
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
    assert status.pr_number == 7


async def test_an_auto_approved_gitops_rollback_still_needs_the_switch(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(fix=rollback_fix(), policy=demo_policy(auto_approve=AutoApprovePolicy.ALWAYS))
    client = time_skipping_env.client
    alert = Alert(
        name="KubePodCrashLooping", namespace="demo", workload=f"web-{uuid.uuid4().hex[:6]}"
    )
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert "SELFHEAL_ALLOW_DESTRUCTIVE" in (status.escalation_reason or "")
    assert world.calls["open_pull_request"] == 0 and world.calls["merge_pull_request"] == 0
