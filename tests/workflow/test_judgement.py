"""The incident's decisions that need no workflow, without a server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfheal.contracts.github import PullRequestState
from selfheal.model.decisions import PullRequestAction
from selfheal.model.diagnosis import ActionKind, FixKind, FixProposal, RemediationAction, RiskLevel
from selfheal.model.incident import IncidentState
from selfheal.model.policy import AutoApprovePolicy, IncidentPolicy, RemediationMode
from selfheal.workflows import judgement


def fix(kind: ActionKind = ActionKind.PATCH, risk: RiskLevel = RiskLevel.LOW) -> FixProposal:
    action = RemediationAction(kind=kind, namespace="demo", deployment="checkout", revision=3)
    patch = {"spec": {"template": {}}}
    return FixProposal(
        kind=FixKind.ROLLBACK_IMAGE if kind == ActionKind.ROLLBACK else FixKind.INCREASE_MEMORY,
        risk=risk,
        rationale="because",
        manifest_patch=patch,
        action=action,
    )


def policy(**fields: object) -> IncidentPolicy:
    return IncidentPolicy.model_validate({"namespaces": ["demo"], **fields})


@pytest.mark.parametrize(
    ("rule", "risk", "skips"),
    [
        (AutoApprovePolicy.NEVER, RiskLevel.LOW, False),
        (AutoApprovePolicy.LOW_RISK, RiskLevel.LOW, True),
        (AutoApprovePolicy.LOW_RISK, RiskLevel.MEDIUM, False),
        (AutoApprovePolicy.ALWAYS, RiskLevel.HIGH, True),
    ],
)
def test_only_what_the_policy_allows_skips_the_human(
    rule: AutoApprovePolicy, risk: RiskLevel, skips: bool
) -> None:
    assert judgement.auto_approves(policy(auto_approve=rule), fix(risk=risk)) is skips


def test_a_decision_counts_only_while_one_is_awaited_and_from_an_approver() -> None:
    listed = policy(approvers=["alice"])
    waiting = IncidentState.AWAITING_REVIEW
    assert judgement.approval_refusal(waiting, False, listed, "alice") is None
    assert judgement.approval_refusal(waiting, True, listed, "alice") == (
        "a decision was already made"
    )
    assert judgement.approval_refusal(waiting, False, listed, "mallory") == (
        "mallory is not an approver (SELFHEAL_APPROVERS)"
    )
    assert judgement.approval_refusal(IncidentState.ESCALATED, False, listed, "alice") == (
        "not awaiting approval (state ESCALATED)"
    )


def test_a_decision_naming_a_proposal_counts_only_for_that_proposal() -> None:
    waiting, proposed = IncidentState.AWAITING_APPROVAL, fix()
    assert judgement.approval_refusal(waiting, False, policy(), "alice", "", proposed) is None
    named = proposed.digest
    assert judgement.approval_refusal(waiting, False, policy(), "alice", named, proposed) is None
    refusal = judgement.approval_refusal(waiting, False, policy(), "alice", "stale", proposed)
    assert refusal is not None and f"now proposes {named} (increase_memory" in refusal


def test_a_proposal_s_digest_follows_what_it_would_change_and_nothing_else() -> None:
    proposed = fix()
    assert proposed.digest == fix().digest and len(proposed.digest) == 12
    assert proposed.model_copy(update={"rationale": "other words"}).digest == proposed.digest
    assert fix(ActionKind.ROLLBACK).digest != proposed.digest
    bigger = proposed.model_copy(update={"manifest_patch": {"spec": {"replicas": 3}}})
    assert bigger.digest != proposed.digest


def test_guardrails_refuse_the_cluster_s_namespaces_others_and_unreviewed_destruction() -> None:
    assert "never changed" in (judgement.guardrail_refusal(policy(), "kube-system", fix()) or "")
    assert "not in SELFHEAL_NAMESPACES" in (
        judgement.guardrail_refusal(policy(), "payments", fix()) or ""
    )
    rollback = fix(ActionKind.ROLLBACK)
    direct = policy(mode=RemediationMode.DIRECT)
    assert "destructive" in (judgement.guardrail_refusal(direct, "demo", rollback) or "")
    allowed = policy(mode=RemediationMode.DIRECT, allow_destructive=True)
    assert judgement.guardrail_refusal(allowed, "demo", rollback) is None
    # A gitops pull request a person reviews is that person's decision.
    assert judgement.guardrail_refusal(policy(), "demo", rollback) is None
    unreviewed = policy(auto_approve=AutoApprovePolicy.ALWAYS)
    assert "destructive" in (judgement.guardrail_refusal(unreviewed, "demo", rollback) or "")


def test_a_pull_request_s_state_reads_as_the_events_its_webhook_would_send() -> None:
    def events(**state: object) -> list[tuple[PullRequestAction, str]]:
        pr = PullRequestState.model_validate(
            {"number": 7, "open": True, "merged": False, "author": "selfheal-bot", **state}
        )
        return [(event.action, event.by) for event in judgement.pull_request_events(pr)]

    assert events(open=False, merged=True) == [(PullRequestAction.MERGED, "")]
    assert events(open=False) == [(PullRequestAction.CLOSED, "")]
    assert events(changes_requested_by=["bob"]) == [(PullRequestAction.CHANGES_REQUESTED, "bob")]
    # selfheal opened it: its own approval never counts.
    assert events(approved_by=["selfheal-bot", "alice"]) == [(PullRequestAction.APPROVED, "alice")]
    assert events() == []


def test_durations_read_as_the_settings_write_them() -> None:
    assert judgement.human(timedelta(hours=4)) == "4h"
    assert judgement.human(timedelta(days=7)) == "7d"
    assert judgement.human(timedelta(seconds=90)) == "90s"
