"""Record IncidentWorkflow histories on the real dev server for the replay tests.

Run after a deliberate, released change to the workflow (with `workflow.patched()` in
place for the old paths): `python -m tests.replay.record_histories [--only closing] [DIR]`
(DIR: where to write, by default the histories folder; record into a temporary one and copy
only what a change needs; `--only closing` records just the alert-as-it-closes pair). Rename
the previous incident recordings to `<name>.before-<patch id>.json` first, so the old side
stays tested.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.permits import PermitActivities, set_freeze
from selfheal.client.incidents import incident_handle, incident_status, wait_until_open
from selfheal.contracts.prometheus import SymptomReport
from selfheal.model.alerts import Alert, AlertStatus
from selfheal.model.decisions import Approval, ManualResolution, Rejection, RetryRequest
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory
from selfheal.model.guard import FreezeRequest, UnfreezeRequest
from selfheal.model.incident import IncidentState
from selfheal.model.policy import AnalyzerChoice, AutoApprovePolicy
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.search import ALL_KEYS
from selfheal.workflows.workload import WorkloadWorkflow
from selfheal_lab.binaries import find_binary
from tests.delivery import deliver
from tests.workflow.doubles import FailingInvestigation, FakeWorld, oom_diagnosis

HISTORIES = Path(__file__).parent / "histories"
QUEUE = "replay-recording"
ONLY = ""


def fresh_alert(name: str, mode: str) -> Alert:
    """An alert `name` about a checkout of its own (so a workload of its own), in `mode`."""
    return Alert(
        name=name,
        namespace="demo",
        workload=f"checkout-{uuid.uuid4().hex[:4]}",
        labels={"selfheal_mode": mode},
    )


async def _until(client: Client, incident_id: str, state: IncidentState) -> None:
    for _ in range(600):
        if (await incident_status(client, incident_id)).state == state:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{incident_id} never reached {state}")


async def gitops_approved(client: Client, incident_id: str) -> None:
    await _until(client, incident_id, IncidentState.AWAITING_REVIEW)
    await incident_handle(client, incident_id).signal(
        IncidentWorkflow.approve, Approval(by="alice")
    )


async def direct_rejected_then_retried(client: Client, incident_id: str) -> None:
    handle = incident_handle(client, incident_id)
    await _until(client, incident_id, IncidentState.AWAITING_APPROVAL)
    await handle.execute_update(IncidentWorkflow.reject_now, Rejection(by="bob", reason="no"))
    await _until(client, incident_id, IncidentState.ESCALATED)
    await handle.signal(IncidentWorkflow.retry, RetryRequest(by="bob"))
    await _until(client, incident_id, IncidentState.AWAITING_APPROVAL)
    proposed = (await incident_status(client, incident_id)).fix
    assert proposed is not None  # the approval names the proposal it approves
    approval = Approval(by="bob", proposal=proposed.digest, channel="cli")
    await handle.execute_update(IncidentWorkflow.approve_now, approval)


async def observe_only(client: Client, incident_id: str) -> None:
    return None


SCENARIOS: dict[str, tuple[str, Callable[[Client, str], Awaitable[None]]]] = {
    "gitops-approved": ("gitops", gitops_approved),
    "direct-rejected-retried": ("direct", direct_rejected_then_retried),
    "observe": ("observe", observe_only),
}


async def unexplained_then_resolved(client: Client, world: FakeWorld) -> None:
    """A healthy workload whose alert fires: ESCALATED; its alert resolves: RESOLVED. A
    second alert name joins on the way, delivered twice (a sender's retry); the workload's
    history is recorded too."""
    world.diagnosis = Diagnosis(
        category=DiagnosisCategory.UNKNOWN,
        summary="No fault found: payments shows 2/2 pods ready, no restarts",
        fault_found=False,
    )
    alert = Alert(name="HighErrorRate", namespace="demo", workload="payments", external_id="f1")
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    await _until(client, delivery.incident_id, IncidentState.ESCALATED)
    joined = alert.model_copy(update={"name": "HighLatency", "external_id": "f2"})
    await deliver(client, joined, QUEUE, "http://ui")
    await deliver(client, joined, QUEUE, "http://ui")  # the sender's retry: counted once
    for resolved in (alert, joined):
        await deliver(
            client, resolved.model_copy(update={"status": AlertStatus.RESOLVED}), QUEUE, "http://ui"
        )
    handle = incident_handle(client, delivery.incident_id)
    await handle.result()
    history = await handle.fetch_history()
    (HISTORIES / "unexplained-resolved-itself.json").write_text(history.to_json())
    print(f"recorded unexplained-resolved-itself: {len(history.events)} events")
    workload = await client.get_workflow_handle(delivery.workflow_id).fetch_history()
    (HISTORIES / "workload.json").write_text(workload.to_json())
    print(f"recorded workload: {len(workload.events)} events")


async def statefulset_on_the_model_path(client: Client, world: FakeWorld) -> None:
    """A StatefulSet's alert on the model path (the investigation gives up, the rules
    diagnose), observed: its context is gathered for the StatefulSet."""
    rules = world.policy
    world.policy = rules.model_copy(update={"analyzer": AnalyzerChoice.MODEL})
    alert = Alert(
        name="KubeStatefulSetReplicasMismatch",
        namespace="demo",
        workload="ledger",
        kind="StatefulSet",
        labels={"selfheal_mode": "observe"},
    )
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    handle = incident_handle(client, delivery.incident_id)
    await handle.result()
    world.policy = rules
    if world.requests["gather_context"][-1].kind != "StatefulSet":
        raise RuntimeError("the model path gathered another kind than the alert's")
    history = await handle.fetch_history()
    (HISTORIES / "model-statefulset.json").write_text(history.to_json())
    print(f"recorded model-statefulset: {len(history.events)} events")


async def slack_decision_with_reminders(client: Client, world: FakeWorld) -> None:
    """Direct mode with Slack and reminders: the decision message is posted, the approval
    wait reminds at 50% and 90% of its 4 s, then a Slack approval naming the proposal."""
    plain = world.policy
    world.policy = plain.model_copy(
        update={"chat": True, "reminders": [0.5, 0.9], "approval_timeout": timedelta(seconds=4)}
    )
    alert = fresh_alert("KubeContainerOOMKilled", "direct")
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    handle = incident_handle(client, delivery.incident_id)
    for _ in range(100):
        status = await incident_status(client, delivery.incident_id)
        if sum(entry.note.startswith("reminder:") for entry in status.timeline) == 2:
            break
        await asyncio.sleep(0.05)
    assert status.fix is not None
    approval = Approval(by="alice", proposal=status.fix.digest, channel="slack")
    await handle.execute_update(IncidentWorkflow.approve_now, approval)
    final = await handle.result()
    world.policy = plain
    if final.chat is None or world.calls["publish_decision"] < 4:
        raise RuntimeError("the Slack decision message was not posted and followed")
    history = await handle.fetch_history()
    (HISTORIES / "direct-slack-reminded.json").write_text(history.to_json())
    print(f"recorded direct-slack-reminded: {len(history.events)} events")


async def symptom_after_the_fix(
    client: Client, world: FakeWorld, name: str, report: SymptomReport
) -> None:
    """Direct mode with Prometheus, healthy pods, and the symptom check answering `report`:
    still holding (the fix is rolled back) or unanswered (the fix stays); either way the
    incident escalates, then a person resolves it."""
    plain, cleared = world.policy, world.symptom
    world.policy = plain.model_copy(
        update={"symptoms": True, "auto_approve": AutoApprovePolicy.LOW_RISK}
    )
    world.symptom = report
    alert = fresh_alert("HighErrorRate", "direct")
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    await _until(client, delivery.incident_id, IncidentState.ESCALATED)
    handle = incident_handle(client, delivery.incident_id)
    await handle.signal(IncidentWorkflow.resolve, ManualResolution(by="sre", note="fixed the db"))
    await handle.result()
    world.policy, world.symptom = plain, cleared
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())
    print(f"recorded {name}: {len(history.events)} events")


HOLDS = SymptomReport(
    checked=True, holds=True, message="the symptom still holds for demo/checkout: X = 1"
)
UNANSWERED = SymptomReport(
    checked=False,
    failed=True,
    message="the alert's own condition could not be checked for demo/checkout: Prometheus "
    "did not answer (3 read(s) failed over 30s)",
)


async def metrics_on_the_model_path(client: Client, world: FakeWorld) -> None:
    """An alert on the model path with Prometheus configured, observed: the context the
    investigation and the rules read carries the workload's metrics."""
    rules = world.policy
    world.policy = rules.model_copy(update={"analyzer": AnalyzerChoice.MODEL, "metrics": True})
    alert = fresh_alert("CPUThrottlingHigh", "observe")
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    handle = incident_handle(client, delivery.incident_id)
    await handle.result()
    world.policy = rules
    if world.requests["diagnose"][-1].context.metrics != world.metrics:
        raise RuntimeError("the model path's context did not carry the metrics")
    history = await handle.fetch_history()
    (HISTORIES / "model-metrics.json").write_text(history.to_json())
    print(f"recorded model-metrics: {len(history.events)} events")


async def alert_as_it_closes(client: Client, world: FakeWorld) -> None:
    """Direct, auto-approved, with a ticket: the incident has published RESOLVED and waits on
    its last ticket update when its workload's alert fires again; the incident's and the
    workload's histories are recorded (on current code the workload opens a second incident;
    before `alerts-after-close`, the closing incident took the alert)."""
    plain = world.policy
    world.policy = plain.model_copy(
        update={"ticketing": True, "auto_approve": AutoApprovePolicy.ALWAYS}
    )
    world.closing = asyncio.Event()
    alert = fresh_alert("KubePodCrashLooping", "direct")
    delivery = await deliver(client, alert, QUEUE, "http://ui")
    await _until(client, delivery.incident_id, IncidentState.RESOLVED)
    again = alert.model_copy(update={"name": "KubeContainerOOMKilled", "external_id": "again"})
    await deliver(client, again, QUEUE, "http://ui")
    world.closing.set()
    handle = incident_handle(client, delivery.incident_id)
    await handle.result()
    workload = client.get_workflow_handle(delivery.workflow_id)
    # The next incident, when the workload opens one (not before alerts-after-close), ends.
    run = (await workload.describe()).run_id or ""
    following = alert.on_cluster("default").target.incident_id(run, 2)
    if await wait_until_open(client, following, timedelta(seconds=5)):
        await incident_handle(client, following).result()
    world.policy, world.closing = plain, None
    for name, recorded in (("closing-refired", handle), ("workload-refired", workload)):
        history = await recorded.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())
        print(f"recorded {name}: {len(history.events)} events")


async def record() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
    )
    client = env.client
    world = FakeWorld()
    guard = PermitActivities(client, "selfheal-guard", QUEUE)
    async with Worker(
        client,
        task_queue=QUEUE,
        workflows=[WorkloadWorkflow, IncidentWorkflow, FailingInvestigation, *GUARD_WORKFLOWS],
        activities=[*world.activities(), guard.request_permit],
    ):
        if ONLY == "closing":  # `--only closing`: record just this, e.g. on older code
            await alert_as_it_closes(client, world)
            await env.shutdown()
            return
        await unexplained_then_resolved(client, world)
        world.diagnosis = oom_diagnosis()
        for name, (mode, drive) in SCENARIOS.items():
            alert = fresh_alert("KubeContainerOOMKilled", mode)
            delivery = await deliver(client, alert, QUEUE, "http://ui")
            await drive(client, delivery.incident_id)
            handle = incident_handle(client, delivery.incident_id)
            await handle.result()
            history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json())
            print(f"recorded {name}: {len(history.events)} events")
            if name == "gitops-approved":  # its workload counted the merge: a permit update
                workload = client.get_workflow_handle(delivery.workflow_id)
                counted = await workload.fetch_history()
                (HISTORIES / "workload-permit.json").write_text(counted.to_json())
                print(f"recorded workload-permit: {len(counted.events)} events")
        await statefulset_on_the_model_path(client, world)
        await slack_decision_with_reminders(client, world)
        await metrics_on_the_model_path(client, world)
        await symptom_after_the_fix(client, world, "direct-symptom-holds", HOLDS)
        await symptom_after_the_fix(client, world, "direct-symptom-unanswered", UNANSWERED)
        await alert_as_it_closes(client, world)
        await set_freeze(client, "selfheal-guard", QUEUE, FreezeRequest(by="sre", reason="drill"))
        await set_freeze(client, "selfheal-guard", QUEUE, UnfreezeRequest(by="sre"))
        guard_history = await client.get_workflow_handle("selfheal-guard").fetch_history()
        (HISTORIES / "guard.json").write_text(guard_history.to_json())
        print(f"recorded guard: {len(guard_history.events)} events")
        async for ledger in client.list_workflows("WorkflowType = 'RemediationLedgerWorkflow'"):
            ledger_history = await client.get_workflow_handle(ledger.id).fetch_history()
            (HISTORIES / "ledger.json").write_text(ledger_history.to_json())
            print(f"recorded ledger: {len(ledger_history.events)} events")
            break
    await env.shutdown()


if __name__ == "__main__":
    if sys.argv[1:3] == ["--only", "closing"]:
        ONLY, sys.argv[1:3] = "closing", []
    if len(sys.argv) > 1:
        HISTORIES = Path(sys.argv[1])
        HISTORIES.mkdir(parents=True, exist_ok=True)
    asyncio.run(record())
