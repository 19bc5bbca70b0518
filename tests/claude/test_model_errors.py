"""API failures: retried by Temporal where the API says so, then the rules take over."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from selfheal.model.diagnosis import DiagnosisCategory
from selfheal_lab.sandbox.anthropic_fake import api_error, overloaded, submit
from tests.claude import incident
from tests.claude.fake_model import FakeModel


async def test_overloaded_api_is_retried_then_the_investigation_fails(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(1, overloaded())

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is None
    assert result.failure.startswith("model call failed: the Anthropic API answered 529")
    assert "[ModelOverloaded]" in result.failure
    assert len(model.fake.requests_for(1)) == 4  # the activity's attempts; the SDK never retries
    assert result.usage.model_calls == 0


async def test_overload_that_passes_is_retried_to_a_diagnosis(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(
        1, overloaded(retry_after=5), overloaded(), submit(incident.oom_submission())
    )

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is not None
    assert result.diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert [r.status for r in model.fake.requests_for(1)] == [529, 529, 200]
    assert result.usage.model_calls == 1


async def test_refused_key_is_not_retried(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(1, api_error(401, "authentication_error", "invalid x-api-key"))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is None
    assert "refused the request (401): invalid x-api-key [ModelAuthFailed]" in result.failure
    assert len(model.fake.requests) == 1


async def test_missing_key_fails_at_once_without_calling_the_api(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    result = await model.investigate(time_skipping_env, incident.request(), api_key=None)

    assert result.diagnosis is None
    assert "[ModelNotConfigured]" in result.failure
    assert "ANTHROPIC_API_KEY" in result.failure
    assert model.fake.requests == []
