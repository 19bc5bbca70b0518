"""The fake Anthropic API as tests use it: served over HTTP, and a worker pointed at it."""

from __future__ import annotations

import uuid

from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.claude.activities import investigation_activities
from selfheal.contracts.claude import InvestigationRequest, InvestigationResult
from selfheal.settings import Settings
from selfheal.workflows.investigation import InvestigationWorkflow
from selfheal_lab.sandbox.anthropic_fake import FakeAnthropic
from selfheal_lab.sandbox.serving import ServedApp

TEST_KEY = "test-key-not-a-secret"


class FakeModel:
    """The scripted fake and where it is served."""

    def __init__(self, fake: FakeAnthropic, served: ServedApp) -> None:
        self.fake = fake
        self.url = served.url

    def settings(self, api_key: str | None = TEST_KEY) -> Settings:
        """Return worker settings that point the real client at the fake."""
        return Settings(
            anthropic_api_key=SecretStr(api_key) if api_key else None,
            anthropic_base_url=self.url,
        )

    async def investigate(
        self,
        env: WorkflowEnvironment,
        request: InvestigationRequest,
        api_key: str | None = TEST_KEY,
    ) -> InvestigationResult:
        """Run one investigation to its end on an in-process worker and return its result."""
        queue = f"investigate-{uuid.uuid4().hex[:8]}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[InvestigationWorkflow],
            activities=investigation_activities(self.settings(api_key)),
        ):
            return await env.client.execute_workflow(
                InvestigationWorkflow.run,
                request,
                id=f"{request.incident_id}-investigation-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
