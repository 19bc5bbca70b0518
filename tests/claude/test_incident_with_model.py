"""The incident workflow with the real investigation child: the model's diagnosis, or the rules'."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.claude.activities import investigation_activities
from selfheal.activities.permits import PermitActivities
from selfheal.client.incidents import incident_handle
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.model.policy import AnalyzerChoice, IncidentPolicy
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.investigation import InvestigationWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from selfheal_lab.sandbox.anthropic_fake import submit
from tests.claude import incident
from tests.claude.fake_model import FakeModel
from tests.delivery import deliver
from tests.workflow.doubles import FakeWorld


async def run_incident(
    env: WorkflowEnvironment, model: FakeModel, world: FakeWorld
) -> IncidentStatus:
    """Run one observe-mode incident to its end with the model investigation on the worker."""
    queue = f"incident-model-{uuid.uuid4().hex[:8]}"
    guard = PermitActivities(env.client, f"guard-{queue}", queue)
    alert = Alert(
        name="KubePodCrashLooping",
        namespace="demo",
        workload=f"checkout-{uuid.uuid4().hex[:6]}",
        labels={"selfheal_mode": "observe"},
    )
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[WorkloadWorkflow, IncidentWorkflow, InvestigationWorkflow, *GUARD_WORKFLOWS],
        activities=[
            *world.activities(),
            *investigation_activities(model.settings()),
            guard.request_permit,
        ],
    ):
        delivery = await deliver(env.client, alert, queue, "http://ui.test")
        return await incident_handle(env.client, delivery.incident_id).result()


def model_policy() -> IncidentPolicy:
    return IncidentPolicy(namespaces=["demo"], analyzer=AnalyzerChoice.MODEL, model=incident.MODEL)


async def test_model_diagnosis_and_its_usage_land_in_the_incident_status(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(1, submit(incident.oom_submission(summary="checkout runs out of memory")))
    world = FakeWorld(policy=model_policy())

    final = await run_incident(time_skipping_env, model, world)

    assert final.state == IncidentState.RESOLVED
    assert final.diagnosis is not None and final.diagnosis.analyzer == incident.MODEL
    assert final.diagnosis.summary == "checkout runs out of memory"
    assert world.calls["diagnose"] == 0
    assert final.usage.model_calls == 1 and final.usage.input_tokens > 0


async def test_malformed_model_output_falls_back_to_the_rules(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(1, submit({"category": "kernel_panic"}))
    model.fake.on_turn(2, submit({"category": "kernel_panic"}))
    world = FakeWorld(policy=model_policy())

    final = await run_incident(time_skipping_env, model, world)

    assert final.state == IncidentState.RESOLVED
    assert world.calls["diagnose"] == 1
    assert final.diagnosis is not None and final.diagnosis.analyzer == "rules"
    assert final.diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert final.usage.model_calls == 2  # the answer and the one corrective re-ask
    assert len(model.fake.requests) == 2
    assert any("invalid model output" in entry.note for entry in final.timeline)
