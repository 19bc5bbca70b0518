"""IncidentWorkflow's state machine on the time-skipping server, with activity doubles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.permits import PermitActivities
from selfheal.client.incidents import incident_handle, incident_status, wait_until_open
from selfheal.contracts.jira import TicketRef, TicketRequest
from selfheal.contracts.prometheus import SymptomReport
from selfheal.model.alerts import Alert
from selfheal.model.decisions import Approval, ManualResolution, Rejection, RetryRequest
from selfheal.model.diagnosis import FixKind, FixProposal, RiskLevel
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.model.policy import AnalyzerChoice, AutoApprovePolicy, IncidentPolicy, RemediationMode
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.ticket_catch_up import TicketCatchUpWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from tests.delivery import deliver
from tests.workflow.doubles import FailingInvestigation, FakeWorld

UI = "http://ui.test"


def demo_policy(**settings: object) -> IncidentPolicy:
    """The policy of a worker allowed to change the `demo` namespace."""
    return IncidentPolicy.model_validate({"namespaces": ["demo"], **settings})


@asynccontextmanager
async def running(
    env: WorkflowEnvironment, world: FakeWorld, *replacing: Callable[..., Any]
) -> AsyncIterator[str]:
    """Run a worker with `world`'s doubles (any of them replaced by an activity of the same
    name in `replacing`) on a fresh task queue; yield the queue."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    guard = PermitActivities(env.client, f"guard-{queue}", queue)
    replaced = {_activity_name(fn) for fn in replacing}
    doubles = [fn for fn in world.activities() if _activity_name(fn) not in replaced]
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[
            WorkloadWorkflow,
            IncidentWorkflow,
            FailingInvestigation,
            TicketCatchUpWorkflow,
            *GUARD_WORKFLOWS,
        ],
        activities=[*doubles, *replacing, guard.request_permit],
    ):
        yield queue
    # Incidents left waiting would hold the shared time-skipping clock once nobody serves them.
    for request in world.requests.get("load_policy", []):
        for workflow_id in (request.incident_id, request.alert.target.workflow_id):
            with contextlib.suppress(RPCError):
                await env.client.get_workflow_handle(workflow_id).terminate("test over")


def _activity_name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__temporal_activity_definition").name)


def an_alert(workload: str = "checkout", **labels: str) -> Alert:
    return Alert(
        name="KubePodCrashLooping",
        namespace="demo",
        workload=f"{workload}-{uuid.uuid4().hex[:6]}",
        severity="critical",
        summary="pods restarting",
        labels=labels,
    )


async def wait_for_state(
    client: Client, incident_id: str, *states: IncidentState
) -> IncidentStatus:
    for _ in range(400):
        status = await incident_status(client, incident_id)
        if status.state in states:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{incident_id} never reached {states}; last: {status.state}")


async def eventually_status(
    client: Client, incident_id: str, done: Callable[[IncidentStatus], bool], tries: int = 200
) -> IncidentStatus:
    """The status once `done` holds; a busy worker may let a query time out meanwhile."""
    status: IncidentStatus | None = None
    for _ in range(tries):
        try:
            status = await incident_status(client, incident_id)
        except RPCError:
            continue
        if done(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident_id}: condition never held; last: {status}")


def states_of(status: IncidentStatus) -> list[str]:
    seen: list[str] = []
    for entry in status.timeline:
        if not seen or seen[-1] != entry.state.value:
            seen.append(entry.state.value)
    return seen


async def test_gitops_happy_path_merges_and_resolves(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(policy=demo_policy(ticketing=True))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        alert = an_alert()
        delivery = await deliver(client, alert, queue, UI)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await incident_handle(client, delivery.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice", comment="lgtm")
        )
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert states_of(final) == [
        "RECEIVED",
        "ANALYZING",
        "FIXING",
        "AWAITING_REVIEW",
        "DEPLOYING",
        "VERIFYING",
        "RESOLVED",
    ]
    assert final.pr_number == 7 and final.ticket_key == "OPS-1"
    assert world.calls["merge_pull_request"] == 1
    assert world.calls["apply_remediation"] == 0
    assert world.requests["wait_rollout"][0].expected_template == world.fix.manifest_patch
    assert world.calls["update_ticket"] == 6  # one comment per transition after the ticket
    assert final.approvals[0].by == "alice" and final.approvals[0].accepted
    # The rules path analyses in one activity; the context never enters the workflow.
    assert world.calls["analyze_workload"] == 1
    assert world.calls["gather_context"] == world.calls["propose_fix"] == 0
    assert world.requests["open_pull_request"][0].manifest_path == "apps/checkout/deployment.yaml"


async def test_a_fix_the_generator_refuses_escalates_with_the_refusal(
    time_skipping_env: WorkflowEnvironment,
):
    refusal = "fix proposal refused for demo/checkout: replicas 500 above 20 [UnsafeProposal]"
    world = FakeWorld(no_fix=refusal)
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert status.escalation_reason == f"no safe fix: {refusal}"
    assert status.diagnosis == world.diagnosis and status.fix is None
    assert states_of(status) == ["RECEIVED", "ANALYZING", "FIXING", "ESCALATED"]
    for mutation in ("apply_remediation", "open_pull_request", "propose_fix"):
        assert world.calls[mutation] == 0


async def test_direct_mode_failed_verification_rolls_back_and_escalates(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(healthy=False)
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_APPROVAL)
        await incident_handle(client, delivery.incident_id).execute_update(
            IncidentWorkflow.approve_now, Approval(by="bob")
        )
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    applied = world.requests["apply_remediation"]
    assert [r.action.kind.value for r in applied] == ["patch", "rollback"]
    assert applied[1].action.revision == 3
    assert "still unhealthy" in (status.escalation_reason or "")
    assert "rolled back" in (status.escalation_reason or "")
    assert world.calls["open_pull_request"] == 0


async def test_observe_mode_records_the_proposal_and_changes_nothing(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld()
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="observe"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert final.fix is not None and final.fix.kind == FixKind.INCREASE_MEMORY
    assert "nothing was changed" in (final.resolution or "")
    for mutation in ("apply_remediation", "open_pull_request", "merge_pull_request"):
        assert world.calls[mutation] == 0


async def test_reject_escalates_then_retry_resolves(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld()
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        handle = incident_handle(client, delivery.incident_id)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal(IncidentWorkflow.reject, Rejection(by="carol", reason="wrong limit"))
        escalated = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
        assert "rejected by carol" in (escalated.escalation_reason or "")
        assert world.calls["close_pull_request"] == 1
        await handle.signal(IncidentWorkflow.retry, RetryRequest(by="carol"))
        again = await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        assert again.attempt == 2
        await handle.signal(IncidentWorkflow.approve, Approval(by="carol"))
        final = await handle.result()
    assert final.state == IncidentState.RESOLVED
    assert world.calls["analyze_workload"] == 2
    assert world.requests["open_pull_request"][1].attempt == 2


async def test_review_deadline_escalates(own_time_skipping_env: WorkflowEnvironment):
    # Its own server: a workflow another test left waiting would hold the skipped clock.
    time_skipping_env = own_time_skipping_env
    world = FakeWorld(policy=demo_policy(review_timeout=timedelta(hours=4)))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        handle = incident_handle(client, delivery.incident_id)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        started = await time_skipping_env.get_current_time()
        await time_skipping_env.sleep(timedelta(hours=4, minutes=1))
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
        assert await time_skipping_env.get_current_time() - started >= timedelta(hours=4)
        await handle.signal(
            IncidentWorkflow.resolve, ManualResolution(by="dave", note="fixed by hand")
        )
        final = await handle.result()
    assert "review deadline passed" in (status.escalation_reason or "")
    assert world.calls["close_pull_request"] == 1
    assert final.state == IncidentState.RESOLVED
    assert final.timeline[-1].by == "dave"


async def test_approval_from_someone_not_allowed_is_recorded_and_ignored(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(approvers=["alice"]))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        handle = incident_handle(client, delivery.incident_id)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal(IncidentWorkflow.approve, Approval(by="mallory"))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(IncidentWorkflow.approve_now, Approval(by="mallory"))
        assert "not an approver" in str(refused.value.cause)
        status = await incident_status(client, delivery.incident_id)
        assert status.state == IncidentState.AWAITING_REVIEW
        assert [(a.by, a.accepted) for a in status.approvals] == [("mallory", False)]
        await handle.execute_update(IncidentWorkflow.approve_now, Approval(by="alice"))
        final = await handle.result()
    assert final.state == IncidentState.RESOLVED
    assert world.requests["merge_pull_request"][0].approved_by == "alice"


async def test_a_decision_naming_another_proposal_is_refused_and_says_what_is_proposed_now(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy())
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        handle = incident_handle(client, delivery.incident_id)
        waiting = await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        assert waiting.fix is not None
        current = waiting.fix.digest
        stale = Approval(by="alice", proposal="0123456789ab", channel="slack")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(IncidentWorkflow.approve_now, stale)
        assert f"now proposes {current}" in str(refused.value.cause)
        # The signal of a stale button is recorded, with its channel, and does not count.
        await handle.signal(IncidentWorkflow.approve, stale)
        status = await eventually_status(client, delivery.incident_id, lambda s: s.approvals)
        [record] = status.approvals
        assert (record.accepted, record.channel, record.proposal) == (
            False,
            "slack",
            stale.proposal,
        )
        assert status.state == IncidentState.AWAITING_REVIEW
        approval = Approval(by="alice", proposal=current, channel="cli")
        await handle.execute_update(IncidentWorkflow.approve_now, approval)
        final = await handle.result()
    assert final.state == IncidentState.RESOLVED
    assert [(a.accepted, a.channel) for a in final.approvals] == [(False, "slack"), (True, "cli")]


async def test_approve_update_is_refused_when_not_waiting(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(fix=FixProposal(kind=FixKind.NONE, risk=RiskLevel.HIGH, rationale="none"))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await incident_handle(client, delivery.incident_id).execute_update(
                IncidentWorkflow.approve_now, Approval(by="alice")
            )
    assert "not awaiting approval (state ESCALATED)" in str(refused.value.cause)


async def test_alert_storm_is_one_incident_and_long_histories_continue_as_new(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(history_limit=500))
    client = time_skipping_env.client
    alert = an_alert()
    async with running(time_skipping_env, world) as queue:
        first = await deliver(client, alert, queue, UI)
        await wait_for_state(client, first.incident_id, IncidentState.AWAITING_REVIEW)
        semaphore = asyncio.Semaphore(50)

        async def send(n: int) -> str:
            # The time-skipping server does not report started/joined; the dev-server
            # tests assert `deduplicated`. Each notification differs: a repeat of one is a
            # sender's retry, counted once.
            repeat = alert.model_copy(update={"summary": f"notification {n}"})
            async with semaphore:
                return (await deliver(client, repeat, queue, UI)).incident_id

        joined = await asyncio.gather(*(send(n) for n in range(1999)))
        assert set(joined) == {first.incident_id}
        status = await eventually_status(client, first.incident_id, lambda s: s.alert_count == 2000)
        # The workload took the storm and passed it on in batches: its history grew long
        # enough to continue as new, the incident's did not.
        workload = await client.get_workflow_handle(alert.target.workflow_id).describe()
        assert workload.raw_description.workflow_execution_info.first_run_id != workload.run_id
        assert status.runs == 1
        # Alerts signalled to the incident itself (the UI's "send signal") grow its history.
        handle = incident_handle(client, first.incident_id)
        for _ in range(600):
            await handle.signal(IncidentWorkflow.alert, alert)
        status = await eventually_status(client, first.incident_id, lambda s: s.alert_count == 2600)
        assert status.runs > 1
        assert status.state == IncidentState.AWAITING_REVIEW
        await incident_handle(client, first.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice")
        )
        final = await incident_handle(client, first.incident_id).result()
    assert final.state == IncidentState.RESOLVED and final.alert_count == 2600
    assert world.calls["open_pull_request"] == 1


async def test_non_retryable_activity_error_escalates_with_its_reason(
    time_skipping_env: WorkflowEnvironment,
):
    failure = ApplicationError(
        "no Kubernetes cluster configured (set KUBECONFIG or run in-cluster)",
        type="ClusterNotConfigured",
        non_retryable=True,
    )
    world = FakeWorld(failures={"analyze_workload": failure})
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert world.calls["analyze_workload"] == 1
    assert "no Kubernetes cluster configured" in (status.escalation_reason or "")
    assert status.timeline[-1].state == IncidentState.ESCALATED


async def test_auto_approve_low_risk_skips_the_human(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert "AWAITING_APPROVAL" not in states_of(final)
    assert final.approvals[0].by == "selfheal" and "low-risk" in final.approvals[0].comment
    notes = [entry.note for entry in final.timeline]
    assert "approved without a person: SELFHEAL_AUTO_APPROVE=low-risk allows risk low" in notes


async def test_failed_model_investigation_falls_back_to_rules(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(analyzer=AnalyzerChoice.MODEL))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="observe"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert world.calls["diagnose"] == 1
    assert final.usage.model_calls == 2 and final.usage.input_tokens == 1200
    assert any("diagnosing with the offline rules" in e.note for e in final.timeline)


@pytest.mark.parametrize("analyzer", [AnalyzerChoice.RULES, AnalyzerChoice.MODEL])
async def test_the_context_is_read_for_the_kind_the_alert_names(
    time_skipping_env: WorkflowEnvironment, analyzer: AnalyzerChoice
):
    world = FakeWorld(policy=demo_policy(analyzer=analyzer))
    client = time_skipping_env.client
    alert = an_alert("ledger", selfheal_mode="observe").model_copy(update={"kind": "StatefulSet"})
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    asked = (
        world.requests["analyze_workload"][0].workload
        if analyzer == AnalyzerChoice.RULES
        else world.requests["gather_context"][0]
    )
    assert (asked.kind, asked.workload) == ("StatefulSet", alert.workload)
    assert delivery.workflow_id == alert.target.workflow_id
    assert alert.target.kind == "StatefulSet"


async def test_the_model_path_reads_the_metrics_into_the_context_when_prometheus_is_set(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(analyzer=AnalyzerChoice.MODEL, metrics=True))
    client = time_skipping_env.client
    alert = an_alert(selfheal_mode="observe")
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    (asked,) = world.requests["gather_metrics"]
    assert (asked.namespace, asked.workload, asked.kind) == ("demo", alert.workload, "Deployment")
    assert asked.incident_id == delivery.incident_id
    (diagnosed,) = world.requests["diagnose"]  # the investigation gave up; the rules read it
    assert diagnosed.context.metrics == world.metrics


async def test_metrics_that_cannot_be_read_are_noted_and_the_analysis_goes_on(
    time_skipping_env: WorkflowEnvironment,
):
    down = ApplicationError(
        "cannot reach Prometheus at http://prometheus:9090", type="PrometheusUnavailable"
    )
    world = FakeWorld(
        policy=demo_policy(analyzer=AnalyzerChoice.MODEL, metrics=True),
        failures={"gather_metrics": down},
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="observe"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert world.calls["gather_metrics"] == 4  # best effort: four attempts
    notes = [entry.note for entry in final.timeline]
    assert any(
        "metrics not read (cannot reach Prometheus at http://prometheus:9090 "
        "[PrometheusUnavailable]); analysing without them" in note
        for note in notes
    )
    assert world.requests["diagnose"][0].context.metrics.note.startswith("not read: ")


async def test_without_prometheus_no_metrics_are_asked_for(time_skipping_env: WorkflowEnvironment):
    world = FakeWorld(policy=demo_policy(analyzer=AnalyzerChoice.MODEL))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="observe"), queue, UI)
        await incident_handle(client, delivery.incident_id).result()
    assert world.calls["gather_metrics"] == 0
    assert world.requests["diagnose"][0].context.metrics is None


async def test_the_rollout_and_health_of_a_statefulset_are_watched_as_one(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy())
    client = time_skipping_env.client
    alert = an_alert("ledger").model_copy(update={"kind": "StatefulSet"})
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await incident_handle(client, delivery.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice")
        )
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    (rollout,) = world.requests["wait_rollout"]
    (health,) = world.requests["verify_health"]
    assert (rollout.kind, rollout.deployment) == ("StatefulSet", alert.workload)
    assert (health.kind, health.deployment) == ("StatefulSet", alert.workload)


async def test_failed_model_investigation_escalates_when_rules_are_off(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(analyzer=AnalyzerChoice.MODEL_ONLY))
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(), queue, UI)
        status = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    assert world.calls["diagnose"] == 0
    assert "outside the schema" in (status.escalation_reason or "")


async def test_every_decision_is_one_structured_log_event(
    time_skipping_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
):
    world = FakeWorld()
    client = time_skipping_env.client
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    alert = an_alert(selfheal_mode="direct")
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, alert, queue, UI)
        await wait_for_state(client, delivery.incident_id, IncidentState.AWAITING_APPROVAL)
        await incident_handle(client, delivery.incident_id).signal(
            IncidentWorkflow.approve, Approval(by="alice", comment="go")
        )
        await incident_handle(client, delivery.incident_id).result()
    audits = [r.audit for r in caplog.records if hasattr(r, "audit")]  # type: ignore[attr-defined]
    mine = [a for a in audits if a["incident_id"] == delivery.incident_id]
    decisions = [a for a in mine if "decision" in a]
    assert decisions == [
        {
            "incident_id": delivery.incident_id,
            "service": alert.workload,
            "decision": "approve",
            "by": "alice",
            "comment": "go",
            "counted": True,
            "refusal": None,
        }
    ]
    assert [a["state"] for a in mine if "state" in a][-1] == "RESOLVED"


async def test_a_ticket_jira_refused_at_the_start_is_opened_on_a_later_transition(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(ticketing=True, auto_approve=AutoApprovePolicy.ALWAYS))
    # Every attempt of the first call (BEST_EFFORT: 4) meets the outage; the next call works.
    outage = ApplicationError(
        "JIRA answered 503", type="JiraUnavailable", next_retry_delay=timedelta(milliseconds=200)
    )
    failures = iter([outage] * 4)
    real_open_ticket = next(a for a in world.activities() if a.__name__ == "open_ticket")

    @activity.defn(name="open_ticket")
    async def flaky_open_ticket(request: TicketRequest) -> TicketRef:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return await real_open_ticket(request)

    client = time_skipping_env.client
    async with running(time_skipping_env, world, flaky_open_ticket) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED
    assert final.ticket_key == "OPS-1"
    assert any(e.note.startswith("no ticket: JIRA answered 503") for e in final.timeline)
    assert world.calls["update_ticket"] >= 1


async def test_a_ticket_jira_refuses_for_good_is_asked_for_once(
    time_skipping_env: WorkflowEnvironment,
):
    refusal = ApplicationError(
        "JIRA answered HTTP 403", type="JiraPermissionDenied", non_retryable=True
    )
    world = FakeWorld(
        policy=demo_policy(ticketing=True, auto_approve=AutoApprovePolicy.ALWAYS),
        failures={"open_ticket": refusal},
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
    assert final.state == IncidentState.RESOLVED and final.ticket_key is None
    assert world.calls["open_ticket"] == 1 and world.calls["update_ticket"] == 0
    notes = [e.note for e in final.timeline if e.note.startswith("no ticket")]
    assert notes == ["no ticket: JIRA answered HTTP 403 [JiraPermissionDenied]"]


async def test_an_incident_that_ends_inside_a_jira_outage_gets_its_ticket_afterwards(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(ticketing=True, auto_approve=AutoApprovePolicy.ALWAYS))
    jira_down = True
    real_open_ticket = next(a for a in world.activities() if a.__name__ == "open_ticket")

    @activity.defn(name="open_ticket")
    async def open_ticket_in_an_outage(request: TicketRequest) -> TicketRef:
        if jira_down:
            # A short retry delay: the test server waits out retry backoff in real time.
            raise ApplicationError(
                "JIRA answered 503",
                type="JiraUnavailable",
                next_retry_delay=timedelta(milliseconds=200),
            )
        return await real_open_ticket(request)

    client = time_skipping_env.client
    async with running(time_skipping_env, world, open_ticket_in_an_outage) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await incident_handle(client, delivery.incident_id).result()
        assert final.state == IncidentState.RESOLVED and final.ticket_key is None
        handed_over = final.timeline[-1].note
        assert handed_over.startswith("no ticket yet: JIRA did not answer"), handed_over
        catch_up_id = handed_over.split("; ")[1].split(" opens")[0]
        jira_down = False  # JIRA comes back after the incident has ended
        key = await client.get_workflow_handle(catch_up_id).result()
    assert key == "OPS-1"
    update = world.requests["update_ticket"][-1]
    assert update.key == "OPS-1" and update.state == IncidentState.RESOLVED
    assert "could not reach JIRA while this incident ran" in update.comment
    for entry in final.timeline[:-1]:
        assert f"{entry.state.value}: {entry.note}" in update.comment


async def test_an_alert_that_reaches_an_incident_as_it_closes_opens_the_next_one(
    time_skipping_env: WorkflowEnvironment,
):
    """The incident has published RESOLVED and is still writing its ticket when its alert
    fires again: the webhook does not call it open, and the closing incident hands the alert
    back to its workload, which opens the next incident for it."""
    world = FakeWorld(policy=demo_policy(ticketing=True, auto_approve=AutoApprovePolicy.ALWAYS))
    world.closing = asyncio.Event()
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        alert = an_alert(selfheal_mode="direct")
        first = await deliver(client, alert, queue, UI)
        first_id = first.incident_id
        await wait_for_state(client, first_id, IncidentState.RESOLVED)  # its ticket update waits
        again = alert.model_copy(update={"name": "KubeContainerOOMKilled", "external_id": "2"})
        late = await deliver(client, again, queue, UI)
        assert late.incident_id == "" and not late.deduplicated, late
        assert "its last incident is still closing" in late.note
        world.closing.set()
        ended = await incident_handle(client, first_id).result()
        assert [a.name for a in ended.after_close] == ["KubeContainerOOMKilled"]
        assert ended.alert_names == ["KubePodCrashLooping"]  # not counted as the first's
        run = (await client.get_workflow_handle(first.workflow_id).describe()).run_id
        next_id = alert.on_cluster("default").target.incident_id(run or "", 2)
        assert await wait_until_open(client, next_id), next_id
        final = await incident_handle(client, next_id).result()
    assert final.previous_incident == first_id
    assert final.alert_name == "KubeContainerOOMKilled"
    assert final.mode == RemediationMode.DIRECT  # the alert's mode label came back with it
    assert final.state == IncidentState.RESOLVED


async def test_a_fix_that_leaves_the_symptom_in_place_is_rolled_back_and_escalated(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK, symptoms=True))
    world.symptom = SymptomReport(
        checked=True,
        holds=True,
        message="the symptom still holds for demo/checkout after 15m: HighErrorRate "
        "(http_errors_ratio > 0.05) = 0.12",
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    asked = world.requests["check_symptom"][0]
    assert asked.namespace == "demo" and asked.workload.startswith("checkout-")
    assert asked.alert_names == ["KubePodCrashLooping"]
    assert final.state == IncidentState.ESCALATED
    reason = final.escalation_reason or ""
    assert reason.startswith("the fix left the symptom in place: the symptom still holds")
    assert "= 0.12" in reason and "rolled back" in reason
    assert [r.action.kind.value for r in world.requests["apply_remediation"]] == [
        "patch",
        "rollback",
    ]


async def test_a_symptom_check_without_an_answer_escalates_and_leaves_the_fix_in_place(
    time_skipping_env: WorkflowEnvironment,
):
    world = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK, symptoms=True))
    world.symptom = SymptomReport(
        checked=False,
        failed=True,
        message="the alert's own condition could not be checked for demo/checkout: "
        "Prometheus did not answer (4 read(s) failed over 30s)",
    )
    client = time_skipping_env.client
    async with running(time_skipping_env, world) as queue:
        delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
        final = await wait_for_state(client, delivery.incident_id, IncidentState.ESCALATED)
    reason = final.escalation_reason or ""
    assert reason.startswith("verified healthy for"), reason
    assert "could not be checked for demo/checkout: Prometheus did not answer" in reason
    assert "the fix is left in place" in reason
    assert final.resolution is None
    assert [r.action.kind.value for r in world.requests["apply_remediation"]] == ["patch"]


async def test_a_cleared_symptom_resolves_and_no_monitoring_says_it_was_not_checked(
    time_skipping_env: WorkflowEnvironment,
):
    checked = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK, symptoms=True))
    unchecked = FakeWorld(policy=demo_policy(auto_approve=AutoApprovePolicy.LOW_RISK))
    client = time_skipping_env.client
    endings = []
    for world in (checked, unchecked):
        async with running(time_skipping_env, world) as queue:
            delivery = await deliver(client, an_alert(selfheal_mode="direct"), queue, UI)
            endings.append(await incident_handle(client, delivery.incident_id).result())
    cleared, blind = endings
    assert cleared.state == blind.state == IncidentState.RESOLVED
    assert "the symptom cleared for demo/checkout" in (cleared.resolution or "")
    assert "the alert's own condition was not checked" in (blind.resolution or "")
    assert unchecked.calls["check_symptom"] == 0
