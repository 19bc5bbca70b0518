"""On the real dev server: a worker SIGKILLed mid-investigation never costs a model call twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from selfheal.model.diagnosis import DiagnosisCategory
from selfheal.workflows.investigation import InvestigationWorkflow
from selfheal_lab.sandbox.anthropic_fake import submit, tool_use
from tests.claude import incident
from tests.claude.fake_model import TEST_KEY, FakeModel

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: WorkflowEnvironment, queue: str, model_url: str) -> subprocess.Popen[str]:
    environ = {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "ANTHROPIC_API_KEY": TEST_KEY,
        "ANTHROPIC_BASE_URL": model_url,
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.claude.investigation_worker", "--task-queue", queue],
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


async def test_sigkill_between_model_turns_resumes_without_repeating_a_model_call(
    dev_server_env: WorkflowEnvironment, model: FakeModel
) -> None:
    fake = model.fake
    fake.on_turn(1, tool_use("container_logs", {"pod": incident.POD, "container": "app"}))
    fake.on_turn(2, submit(incident.oom_submission()))
    second_turn = fake.hold(2)
    queue = f"investigate-crash-{uuid.uuid4().hex[:8]}"

    worker = start_worker(dev_server_env, queue, model.url)
    try:
        handle = await dev_server_env.client.start_workflow(
            InvestigationWorkflow.run,
            incident.request(),
            id=f"investigation-crash-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        # Turn 1 and its tool call are done; turn 2's request is in flight when the worker dies.
        await asyncio.to_thread(fake.wait_for_request, 2)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        second_turn.set()
        worker = start_worker(dev_server_env, queue, model.url)

        result = await asyncio.wait_for(handle.result(), timeout=60)
    finally:
        worker.kill()
        worker.wait(timeout=10)

    assert result.diagnosis is not None
    assert result.diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert len(fake.requests_for(1)) == 1, "the finished first turn was paid for twice"
    killed, retried = fake.requests_for(2)
    assert killed.body == retried.body  # the new worker resumed from the recorded turn
    assert result.usage.model_calls == 2
