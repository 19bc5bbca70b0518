"""Refused pods: quota and LimitRange refusals, and rollouts that time out for another reason."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import (
    ActionKind,
    DiagnosisCategory,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
    RiskLevel,
)
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
DEADLINE = {
    "type": "Progressing",
    "status": "False",
    "reason": "ProgressDeadlineExceeded",
    "message": 'ReplicaSet "payments-gvhj7xsdrz" has timed out progressing.',
    "lastTransitionTime": "2025-06-03T14:20:00Z",
    "lastUpdateTime": "2025-06-03T14:20:00Z",
}


def _load(case: str) -> ClusterContext:
    return load_snapshot(SCENARIOS / case)


def test_a_crash_explains_a_timed_out_rollout() -> None:
    context = _load("crash_loop/new_rollout")
    assert context.deployment is not None
    context.deployment["status"]["conditions"] = [copy.deepcopy(DEADLINE)]
    assert diagnose_context(None, context).category == DiagnosisCategory.CRASH_LOOP


def test_a_limit_range_refusal_explains_a_timed_out_rollout() -> None:
    diagnosis = diagnose_context(None, _load("quota_exceeded/limitrange_max_memory"))
    assert diagnosis.category == DiagnosisCategory.QUOTA_EXCEEDED
    assert "maximum 1Gi memory per Container, the pod asks 2Gi" in diagnosis.summary


def test_a_timed_out_rollout_nothing_explains_is_still_named() -> None:
    context = _load("rollout_stuck/webhook_denied")
    context.events = [e for e in context.events if e.get("reason") != "FailedCreate"]
    for obj in [context.deployment, *context.replicasets]:
        assert obj is not None
        conditions = obj["status"].get("conditions") or []
        obj["status"]["conditions"] = [c for c in conditions if c["type"] != "ReplicaFailure"]
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == DiagnosisCategory.ROLLOUT_STUCK
    assert "has timed out progressing" in diagnosis.summary
    assert diagnosis.confidence < 0.7


def test_a_refusal_that_stopped_is_history() -> None:
    context = _load("quota_exceeded/resourcequota_memory")
    assert context.deployment is not None
    for obj in [context.deployment, *context.replicasets]:
        assert obj is not None
        conditions = obj["status"].get("conditions") or []
        obj["status"]["conditions"] = [c for c in conditions if c["type"] != "ReplicaFailure"]
    for rs in context.replicasets:
        rs["status"]["replicas"] = rs["spec"]["replicas"]
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category != DiagnosisCategory.QUOTA_EXCEEDED


@pytest.mark.parametrize(
    ("case", "category"),
    [
        ("quota_exceeded/resourcequota_memory", DiagnosisCategory.QUOTA_EXCEEDED),
        ("rollout_stuck/pod_security_restricted", DiagnosisCategory.ROLLOUT_STUCK),
    ],
)
def test_no_automatic_fix_is_proposed_or_allowed(case: str, category: DiagnosisCategory) -> None:
    context = _load(case)
    diagnosis = diagnose_context(None, context)
    assert diagnosis.category == category
    scaled = diagnosis.model_copy(update={"suggested_fix": FixKind.SCALE_UP})
    proposal = propose_fix(scaled, context, FixLimits())
    assert (
        proposal.kind == FixKind.NONE and f"No automatic fix for {category}" in proposal.rationale
    )
    rollback = FixProposal(
        kind=FixKind.ROLLBACK_IMAGE,
        risk=RiskLevel.MEDIUM,
        rationale="a model's idea",
        action=RemediationAction(
            kind=ActionKind.ROLLBACK,
            namespace=context.namespace,
            deployment=context.workload,
            revision=1,
        ),
    )
    refused = validate_proposal(rollback, context, FixLimits(), category)
    assert any(f"No automatic fix for {category}" in reason for reason in refused)
