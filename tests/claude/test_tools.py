"""The investigation tools answer from the cluster context, and say so when they cannot."""

from __future__ import annotations

import json

from selfheal.activities.claude.output import SubmittedDiagnosis, submit_tool
from selfheal.activities.claude.tools import answer_tool
from selfheal.contracts.claude import ToolCall
from tests.claude import incident


def ask(name: str, **arguments: object) -> tuple[str, bool]:
    answer = answer_tool(ToolCall(id="t1", name=name, input=arguments), incident.context())
    return answer.content, answer.is_error


def test_logs_answer_the_tail_and_name_what_exists_when_missing() -> None:
    content, is_error = ask(
        "container_logs", pod=incident.POD, container="app", previous=True, tail_lines=1
    )
    assert (content, is_error) == ("catalogue size 212MiB", False)
    content, is_error = ask("container_logs", pod="nope", container="app")
    assert is_error and f"{incident.POD}/app" in content


def test_rollout_revision_shows_that_revisions_template() -> None:
    content, is_error = ask("rollout_revision", revision=1)
    shown = json.loads(content)
    assert not is_error and shown["replicaset"] == "checkout-rev1"
    assert shown["template"]["spec"]["containers"][0]["image"] == "shop/checkout:1.3"
    content, is_error = ask("rollout_revision", revision=9)
    assert is_error and "known: 1, 2" in content


def test_events_filter_by_object_and_bad_input_is_an_error_answer() -> None:
    content, is_error = ask("events", object_name=incident.POD)
    assert not is_error and "BackOff (x12)" in content
    assert ask("events", object_name="other")[0] == "no events for other"
    content, is_error = ask("container_logs", container="app")
    assert is_error and "'pod' is required" in content
    assert ask("delete_namespace")[1] is True


def test_submit_schema_is_the_validating_model() -> None:
    schema = submit_tool()["input_schema"]
    assert schema == SubmittedDiagnosis.model_json_schema()
    assert schema["additionalProperties"] is False
    categories = schema["$defs"]["DiagnosisCategory"]["enum"]
    assert set(categories) >= {"oom_killed", "crash_loop", "unknown"}
