"""The approval policy on the time-skipping server: only what SELFHEAL_AUTO_APPROVE allows skips
the person; everything else waits for one of the listed approvers."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from selfheal.client.incidents import incident_handle
from selfheal.model.decisions import Approval
from selfheal.model.diagnosis import ActionKind, FixKind, FixProposal, RemediationAction, RiskLevel
from selfheal.model.incident import IncidentState
from selfheal.model.policy import AutoApprovePolicy
from selfheal.workflows.incident import IncidentWorkflow
from tests.delivery import deliver
from tests.workflow.doubles import FakeWorld
from tests.workflow.test_incident_workflow import UI, an_alert, demo_policy, running, wait_for_state


def restart_fix() -> FixProposal:
    """A medium-risk fix: a rolling restart of the deployment."""
    return FixProposal(
        kind=FixKind.RESTART,
        risk=RiskLevel.MEDIUM,
        rationale="restart the stuck pods",
        action=RemediationAction(
            kind=ActionKind.ROLLOUT_RESTART, namespace="demo", deployment="checkout"
        ),
    )


async def test_low_risk_policy_still_asks_a_person_for_a_medium_risk_fix(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(
        policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK, approvers=["alice"]),
        fix=restart_fix(),
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        waiting = await wait_for_state(
            client, delivery.incident_id, IncidentState.AWAITING_APPROVAL
        )
        assert world.calls["apply_remediation"] == 0
        handle = incident_handle(client, delivery.incident_id)
        await handle.signal(IncidentWorkflow.approve, Approval(by="mallory"))
        await handle.signal(IncidentWorkflow.approve, Approval(by="alice", comment="ok"))
        final = await handle.result()
    assert waiting.approvals == []
    assert final.state == IncidentState.RESOLVED
    assert [(a.by, a.accepted) for a in final.approvals] == [("mallory", False), ("alice", True)]
    assert "not an approver" in final.approvals[0].note
    assert world.calls["apply_remediation"] == 1


async def test_never_policy_waits_for_a_person_even_for_a_low_risk_fix(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.NEVER))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_APPROVAL)
    assert status.fix is not None and status.fix.risk == RiskLevel.LOW
    assert status.approvals == []
    assert world.calls["apply_remediation"] == 0
