"""The investigation child workflow against the fake Anthropic API, through the real SDK."""

from __future__ import annotations

import json

from temporalio.testing import WorkflowEnvironment

from selfheal.activities.claude.output import SubmittedDiagnosis, submit_tool
from selfheal.activities.claude.prompt import INSTRUCTIONS
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.unfixable import NO_SAFE_FIX
from selfheal.model.diagnosis import DiagnosisCategory, FixKind, FixLimits, RiskLevel
from selfheal_lab.sandbox.anthropic_fake import submit, text, tool_use
from tests.claude import incident
from tests.claude.fake_model import TEST_KEY, FakeModel


async def test_multi_turn_tool_use_investigation_yields_diagnosis_and_usage(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    fake = model.fake
    fake.on_turn(
        1,
        tool_use(
            "container_logs",
            {"pod": incident.POD, "container": "app", "previous": True},
            thought="The container restarts; the previous instance's log should say why.",
        ),
    )
    fake.on_turn(2, tool_use("rollout_revision", {"revision": 2}))
    fake.on_turn(3, submit(incident.oom_submission()))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.failure == ""
    diagnosis = result.diagnosis
    assert diagnosis is not None
    assert diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert diagnosis.suggested_fix == FixKind.INCREASE_MEMORY
    assert diagnosis.analyzer == incident.MODEL
    assert diagnosis.evidence[0].detail == "terminated reason=OOMKilled exitCode=137"
    proposal = diagnosis.proposed_fix
    assert proposal is not None and proposal.risk == RiskLevel.LOW
    assert proposal.action is not None and proposal.action.namespace == incident.NAMESPACE
    assert validate_proposal(proposal, incident.context(), FixLimits()) == []

    assert [len(fake.requests_for(turn)) for turn in (1, 2, 3)] == [1, 1, 1]
    assert result.usage.model_calls == 3 and diagnosis.usage == result.usage
    assert result.usage.cache_write_tokens > 0 and result.usage.cache_read_tokens > 0
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0

    first = fake.requests_for(1)[0].body
    assert first["model"] == incident.MODEL
    assert first["tool_choice"] == {"type": "any"}
    assert first["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "OOMKilled" in first["system"][-1]["text"]
    headers = fake.requests_for(1)[0].headers
    assert TEST_KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    assert {tool["name"] for tool in first["tools"]} == {
        "container_logs",
        "events",
        "rollout_revision",
        "get_object",
        "list_objects",
        "query_metrics",
        "submit_diagnosis",
    }
    # The model's tool calls were answered from the context, one turn at a time.
    second = fake.requests_for(2)[0].body["messages"]
    assert second[1]["content"][1]["name"] == "container_logs"
    assert "catalogue size 212MiB" in second[2]["content"][0]["content"]
    third = fake.requests_for(3)[0].body["messages"]
    assert "shop/checkout:1.4" in third[4]["content"][0]["content"]
    # The stable prefix is identical on every turn, so the cache is hit.
    assert first["system"] == fake.requests_for(3)[0].body["system"]


async def test_malformed_output_after_reask_fails_so_rules_take_over(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    fake = model.fake
    fake.on_turn(1, submit(incident.oom_submission(category="kernel_panic", evidence=[])))
    fake.on_turn(2, submit({"verdict": "it is broken"}))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is None
    assert result.failure.startswith("invalid model output after a re-ask")
    assert result.usage.model_calls == 2
    reask = fake.requests_for(2)[0].body["messages"][2]["content"][0]
    assert reask["type"] == "tool_result" and reask["is_error"] is True
    assert "category" in reask["content"] and "evidence" in reask["content"]
    assert fake.requests_for(3) == []


async def test_corrected_answer_after_one_reask_is_accepted(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    fake = model.fake
    fake.on_turn(1, submit(incident.oom_submission(confidence=7)))
    fake.on_turn(2, submit(incident.oom_submission()))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is not None
    assert result.diagnosis.category == DiagnosisCategory.OOM_KILLED
    assert result.usage.model_calls == 2


async def test_plain_text_answer_is_reasked_then_fails(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    model.fake.on_turn(1, text("It is probably memory."))
    model.fake.on_turn(2, text("Definitely memory."))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is None
    assert "no tool was called" in result.failure
    reask = model.fake.requests_for(2)[0].body["messages"][2]
    assert reask == {
        "role": "user",
        "content": [{"type": "text", "text": reask["content"][0]["text"]}],
    }
    assert "submit_diagnosis" in reask["content"][0]["text"]


async def test_turn_budget_forces_a_submission_then_fails(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    fake = model.fake
    fake.on_turn(1, tool_use("events", {}))
    fake.on_turn(2, tool_use("events", {"object_name": incident.POD}))

    result = await model.investigate(time_skipping_env, incident.request(max_turns=2))

    assert result.diagnosis is None
    assert result.failure == "budget exhausted: 2 model turns without a diagnosis"
    assert fake.requests_for(2)[0].body["tool_choice"] == {
        "type": "tool",
        "name": "submit_diagnosis",
    }
    assert len(fake.requests) == 2


async def test_token_budget_stops_the_investigation(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    reply = tool_use("events", {})
    reply.usage = {"input_tokens": 4000, "output_tokens": 1200}
    model.fake.on_turn(1, reply)

    result = await model.investigate(time_skipping_env, incident.request(max_tokens=5000))

    assert result.diagnosis is None
    assert result.failure.startswith("budget exhausted: 5200 of 5000 tokens")
    assert result.usage.input_tokens == 4000 and result.usage.output_tokens == 1200
    assert len(model.fake.requests) == 1


async def test_hostile_proposal_reaches_the_caller_and_fix_validation_refuses_it(
    time_skipping_env: WorkflowEnvironment, model: FakeModel
) -> None:
    hostile_patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "evil.example.com/miner:latest",
                            "securityContext": {"privileged": True},
                        }
                    ],
                    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
                }
            }
        }
    }
    hostile = {
        "kind": "rollback_image",
        "rationale": "roll forward to a patched build",
        "manifest_patch": hostile_patch,
        "action": {"kind": "patch", "namespace": "kube-system", "patch": hostile_patch},
    }
    model.fake.on_turn(1, submit(incident.oom_submission(proposed_fix=hostile)))

    result = await model.investigate(time_skipping_env, incident.request())

    assert result.diagnosis is not None
    proposal = result.diagnosis.proposed_fix
    assert proposal is not None and proposal.action is not None
    assert proposal.action.namespace == "kube-system"
    refusals = json.dumps(validate_proposal(proposal, incident.context(), FixLimits()))
    assert "evil.example.com" in refusals
    assert "securityContext" in refusals and "volumes" in refusals
    assert "kube-system" in refusals


def test_the_model_may_answer_every_failure_class() -> None:
    schema = submit_tool()["input_schema"]
    assert set(schema["$defs"]["DiagnosisCategory"]["enum"]) == {c.value for c in DiagnosisCategory}
    for category in DiagnosisCategory:
        assert category.value in INSTRUCTIONS
        submitted = SubmittedDiagnosis.model_validate(
            incident.oom_submission(category=category.value, suggested_fix="none")
        )
        assert submitted.category == category
    assert {"dependency_failure", "node_failure"} <= {c.value for c in NO_SAFE_FIX}
    assert "never get an automatic fix: dependency_failure" in INSTRUCTIONS
