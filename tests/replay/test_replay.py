"""Recorded histories still replay: workflow changes that break running incidents fail here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.patches import (
    ALERTS_AFTER_CLOSE,
    CHAT_DECISIONS,
    KIND_FROM_ALERT,
    METRICS_EVIDENCE,
    ONE_STEP_ANALYSIS,
    PROPOSAL_DIGEST,
    SYMPTOM_UNCHECKED_ESCALATES,
    SYMPTOM_VERIFIED,
    WORKLOAD_IDENTITY,
)
from selfheal.workflows.workload import WorkloadWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert {path.stem for path in HISTORIES} >= {
        "gitops-approved",
        "direct-rejected-retried",
        "guard",
        "ledger",
        "workload",
        "workload-permit",
        "unexplained-resolved-itself",
        "model-statefulset",
        "direct-slack-reminded",
        "model-metrics",
        "direct-symptom-holds",
        "direct-symptom-unanswered",
        "closing-refired",
        "workload-refired",
    }


def patches_in(path: Path) -> set[str]:
    """The `workflow.patched()` ids a history recorded."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    found = set()
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_patch":
            for payload in marker.details["patch-data"].payloads:
                found.add(json.loads(payload.data)["id"])
    return found


def test_both_sides_of_every_incident_patch_are_recorded() -> None:
    """A patch keeps incidents started before it replaying: a history from each side."""
    others = {"guard", "ledger", "workload", "workload-permit", "workload-refired"}
    incidents = [path for path in HISTORIES if path.stem not in others]
    for patch, before in (
        (ONE_STEP_ANALYSIS, "gitops-approved.before-one-step-analysis"),
        (WORKLOAD_IDENTITY, "gitops-approved.before-workload-identity"),
        (KIND_FROM_ALERT, "gitops-approved.before-kind-from-alert"),
    ):
        with_patch = [path.stem for path in incidents if patch in patches_in(path)]
        without = [path.stem for path in incidents if patch not in patches_in(path)]
        assert "gitops-approved" in with_patch, patch
        assert before in without, patch
    assert WORKLOAD_IDENTITY in patches_in(HISTORIES[0].parent / "unexplained-resolved-itself.json")
    named = HISTORIES[0].parent / "direct-rejected-retried.json"
    unnamed = HISTORIES[0].parent / "direct-rejected-retried.before-proposal-digest.json"
    assert PROPOSAL_DIGEST in patches_in(named)
    assert PROPOSAL_DIGEST not in patches_in(unnamed)
    assert KIND_FROM_ALERT in patches_in(HISTORIES[0].parent / "model-statefulset.json")
    # Slack and reminders are off in the other recordings, which replay the old waits.
    assert CHAT_DECISIONS in patches_in(HISTORIES[0].parent / "direct-slack-reminded.json")
    assert CHAT_DECISIONS not in patches_in(named)

    # The model path before it read metrics, and after, with Prometheus configured.
    assert METRICS_EVIDENCE not in patches_in(HISTORIES[0].parent / "model-statefulset.json")
    assert METRICS_EVIDENCE in patches_in(HISTORIES[0].parent / "model-metrics.json")
    # Verification by the symptom: its recording, and one from before (no check_symptom).
    assert SYMPTOM_VERIFIED in patches_in(HISTORIES[0].parent / "direct-symptom-holds.json")
    assert SYMPTOM_VERIFIED not in patches_in(named)
    # An unanswered check escalates (its recording); before, it went on to resolve.
    unanswered = HISTORIES[0].parent / "direct-symptom-unanswered.json"
    assert SYMPTOM_UNCHECKED_ESCALATES in patches_in(unanswered)
    assert SYMPTOM_UNCHECKED_ESCALATES not in patches_in(
        HISTORIES[0].parent / "direct-symptom-holds.json"
    )
    # Recorded before the patch: the check failed and the incident went on to resolve.
    resolved = HISTORIES[0].parent / (
        "direct-symptom-unanswered.before-symptom-unchecked-escalates.json"
    )
    assert SYMPTOM_VERIFIED in patches_in(resolved)
    assert SYMPTOM_UNCHECKED_ESCALATES not in patches_in(resolved)
    # An alert that reached a closing incident: handed back and opening the next (both the
    # incident's and its workload's side), and from before, when the closing incident took it.
    for name in ("closing-refired", "workload-refired"):
        assert ALERTS_AFTER_CLOSE in patches_in(HISTORIES[0].parent / f"{name}.json")
        before = HISTORIES[0].parent / f"{name}.before-alerts-after-close.json"
        assert ALERTS_AFTER_CLOSE not in patches_in(before)


def test_the_reminders_are_durable_timers_and_the_message_an_activity() -> None:
    path = HISTORIES[0].parent / "direct-slack-reminded.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    # One timer to each reminder, then one to the deadline (never reached: approved).
    assert len(timers) >= 3
    assert activities.count("publish_decision") >= 4


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[WorkloadWorkflow, IncidentWorkflow, *GUARD_WORKFLOWS],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
