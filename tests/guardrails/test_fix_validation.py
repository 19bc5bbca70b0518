"""Fix validation against what a hostile or careless proposal can hide: fields outside the
allow-list not covered in tests/analysis/test_fixes.py, scale-downs under another name, and
risk labels lower than what the proposal really changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.risk import assessed_risk
from selfheal.activities.remedy import FixActivities
from selfheal.contracts.analysis import FixRequest
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.guardrails import is_destructive
from selfheal.model.diagnosis import (
    ActionKind,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
    RiskLevel,
)
from selfheal.snapshots import load_snapshot

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LIMITS = FixLimits()
EARLIER_IMAGE = "registry.acme.io/shop/payments:2.3.1"


@pytest.fixture(scope="module")
def context() -> ClusterContext:
    """payments in shop: 3 replicas; revision 4 ran 2.3.1, revision 5 runs 2.4.0."""
    return load_snapshot(SCENARIOS / "crash_loop" / "new_rollout")


def containers(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "payments", **fields}]}}}}


def pod_spec(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": fields}}}


def labelled_memory(patch: dict[str, Any], action: RemediationAction | None = None) -> FixProposal:
    """A proposal that calls itself a low-risk memory increase, whatever it changes."""
    return FixProposal(
        kind=FixKind.INCREASE_MEMORY,
        risk=RiskLevel.LOW,
        rationale="a memory increase, says the model",
        manifest_patch=patch,
        action=action
        or RemediationAction(
            kind=ActionKind.PATCH, namespace="shop", deployment="payments", patch=patch
        ),
    )


HIDDEN: dict[str, tuple[dict[str, Any], str]] = {
    "args change": (containers(args=["--disable-auth"]), "container.args"),
    "init container": (
        pod_spec(initContainers=[{"name": "x", "image": "evil.example.com/x:1"}]),
        "initContainers",
    ),
    "service account": (pod_spec(serviceAccountName="cluster-admin"), "serviceAccountName"),
    "host PID": (pod_spec(hostPID=True), "hostPID"),
    "volume mount": (
        containers(volumeMounts=[{"name": "host", "mountPath": "/host"}]),
        "volumeMounts",
    ),
    "image pull policy": (containers(imagePullPolicy="Always"), "imagePullPolicy"),
    "probe aimed at another host": (
        containers(livenessProbe={"httpGet": {"path": "/", "host": "169.254.169.254"}}),
        "httpGet.host",
    ),
    "pod annotation": (
        {"spec": {"template": {"metadata": {"annotations": {"sidecar.istio.io/inject": "false"}}}}},
        "annotations.sidecar.istio.io/inject",
    ),
    "pod labels": (
        {"spec": {"template": {"metadata": {"labels": {"app": "other"}}}}},
        "spec.template.metadata.labels",
    ),
    "deployment labels": ({"metadata": {"labels": {"team": "x"}}}, "metadata.labels"),
    "selector": ({"spec": {"selector": {"matchLabels": {"app": "x"}}}}, "spec.selector"),
    "strategy": ({"spec": {"strategy": {"type": "Recreate"}}}, "spec.strategy"),
    "another kind": ({"kind": "DaemonSet"}, "not a Deployment"),
    "request beyond the cap": (
        containers(resources={"requests": {"memory": "64Gi"}}),
        "exceeds the cap",
    ),
    "ephemeral storage": (
        containers(resources={"limits": {"ephemeral-storage": "1Ti"}}),
        "ephemeral-storage",
    ),
    "env from a config map": (
        containers(
            env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]
        ),
        "valueFrom",
    ),
    "token-looking env": (containers(env=[{"name": "API_TOKEN", "value": "x"}]), "secret"),
}


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_fields_outside_the_allow_list_are_refused(context: ClusterContext, case: str) -> None:
    patch, reason = HIDDEN[case]
    reasons = validate_proposal(labelled_memory(patch), context, LIMITS)
    assert any(reason in r for r in reasons), reasons


def test_restart_action_cannot_smuggle_a_patch(context: ClusterContext) -> None:
    action = RemediationAction(
        kind=ActionKind.ROLLOUT_RESTART,
        namespace="shop",
        deployment="payments",
        patch=containers(image="evil.example.com/payments:1"),
    )
    reasons = validate_proposal(labelled_memory({}, action), context, LIMITS)
    assert any("carries no patch" in r for r in reasons), reasons


def test_deleting_another_workloads_pods_is_refused_even_when_destructive_is_on(
    context: ClusterContext,
) -> None:
    action = RemediationAction(
        kind=ActionKind.DELETE_PODS, namespace="shop", deployment="payments", pods=["billing-0"]
    )
    limits = FixLimits(allow_delete_pods=True)
    reasons = validate_proposal(labelled_memory({}, action), context, limits)
    assert any("only this workload's pods" in r for r in reasons), reasons


def test_a_scale_down_is_destructive_under_any_name(context: ClusterContext) -> None:
    as_patch = labelled_memory({"spec": {"replicas": 1}})
    as_scale = labelled_memory(
        {},
        RemediationAction(
            kind=ActionKind.SCALE, namespace="shop", deployment="payments", replicas=2
        ),
    )
    for proposal in (as_patch, as_scale):
        reasons = validate_proposal(proposal, context, LIMITS)
        assert any("scale-down is destructive" in r for r in reasons), reasons
        allowed = validate_proposal(proposal, context, FixLimits(allow_delete_pods=True))
        assert not any("scale-down" in r for r in allowed), allowed
    assert validate_proposal(labelled_memory({"spec": {"replicas": 6}}), context, LIMITS) == []


def test_the_remediation_activity_sees_a_patched_scale_down_as_destructive() -> None:
    patch = {"spec": {"replicas": 1}}
    action = RemediationAction(
        kind=ActionKind.PATCH, namespace="shop", deployment="payments", patch=patch
    )
    assert is_destructive(action, current_replicas=3)
    assert not is_destructive(action, current_replicas=1)
    grow = action.model_copy(update={"patch": {"spec": {"replicas": 5}}})
    assert not is_destructive(grow, current_replicas=3)


@pytest.mark.parametrize(
    ("patch", "action_kind", "risk"),
    [
        (containers(resources={"limits": {"memory": "1Gi"}}), ActionKind.PATCH, RiskLevel.LOW),
        (containers(image=EARLIER_IMAGE), ActionKind.PATCH, RiskLevel.MEDIUM),
        (containers(env=[{"name": "LOG_LEVEL", "value": "debug"}]), ActionKind.PATCH, "medium"),
        ({}, ActionKind.ROLLOUT_RESTART, RiskLevel.MEDIUM),
        ({}, ActionKind.DELETE_PODS, RiskLevel.HIGH),
    ],
)
def test_risk_is_what_the_proposal_changes_not_what_it_says(
    patch: dict[str, Any], action_kind: ActionKind, risk: RiskLevel
) -> None:
    action = RemediationAction(
        kind=action_kind,
        namespace="shop",
        deployment="payments",
        patch=patch if action_kind == ActionKind.PATCH else {},
    )
    assert assessed_risk(labelled_memory(patch, action)) == risk


async def test_a_mislabelled_image_change_leaves_the_fix_activity_as_medium_risk(
    context: ClusterContext,
) -> None:
    diagnosis = diagnose_context(None, context).model_copy(
        update={"proposed_fix": labelled_memory(containers(image=EARLIER_IMAGE))}
    )
    request = FixRequest(incident_id="inc-payments-x-1", diagnosis=diagnosis, context=context)
    proposal = await ActivityEnvironment().run(FixActivities().propose_fix, request)
    assert proposal.kind == FixKind.INCREASE_MEMORY
    assert proposal.risk == RiskLevel.MEDIUM
