"""The incident's decisions that need no workflow: who may approve, what skips a person,
what a guardrail refuses, what a pull request's state means, and the sentences that say so.

Plain functions of plain data (no workflow API), so they are unit-tested without a server
(tests/workflow/test_judgement.py) and the state machine reads as the process it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from selfheal.contracts.github import PullRequestState
from selfheal.guardrails import destructive_refusal, namespace_refusal
from selfheal.model.decisions import PullRequestAction, PullRequestEvent
from selfheal.model.diagnosis import Diagnosis, FixProposal, RiskLevel
from selfheal.model.incident import IncidentEnding, IncidentState, IncidentStatus
from selfheal.model.policy import AutoApprovePolicy, IncidentPolicy, RemediationMode

DECISION_STATES = frozenset({IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL})


@dataclass(frozen=True)
class Decision:
    """A person's (or the pull request's) answer to the wait for a decision."""

    approved: bool
    by: str
    note: str = ""
    merged: bool = False


# --- approval policy ---------------------------------------------------------------------


def auto_approves(policy: IncidentPolicy, fix: FixProposal) -> bool:
    """True when the approval policy lets `fix` skip the human."""
    rule = policy.auto_approve
    return rule == AutoApprovePolicy.ALWAYS or (
        rule == AutoApprovePolicy.LOW_RISK and fix.risk == RiskLevel.LOW
    )


def approval_rule(policy: IncidentPolicy) -> str:
    """The setting the approval policy comes from, as a person would look it up."""
    return policy.auto_approve_rule or f"SELFHEAL_AUTO_APPROVE={policy.auto_approve.value}"


def approval_refusal(
    state: IncidentState,
    decided: bool,
    policy: IncidentPolicy,
    by: str,
    proposal: str = "",
    current: FixProposal | None = None,
) -> str | None:
    """Why a decision by `by` does not count now, or None when it does.

    A decision naming a proposal (its digest) counts only for that proposal: a stale button
    or a decision made before a retry must not approve what is proposed now.
    """
    if state not in DECISION_STATES:
        return f"not awaiting approval (state {state.value})"
    if decided:
        return "a decision was already made"
    if not policy.may_approve(by):
        return f"{by} is not an approver (SELFHEAL_APPROVERS)"
    if proposal and current is not None and proposal != current.digest:
        return (
            f"the decision names proposal {proposal}, but the incident now proposes "
            f"{current.digest} ({current.kind.value}: {current.rationale})"
        )
    return None


def guardrail_refusal(policy: IncidentPolicy, namespace: str, fix: FixProposal) -> str | None:
    """Why `fix` may not be applied in `namespace` at all, or None."""
    refusal = namespace_refusal(namespace, policy.namespaces)
    if refusal is not None:
        return f"{refusal}; proposed {fix.kind.value} was not applied"
    # A gitops pull request that a person must review is that person's decision; a
    # destructive change that would reach the cluster with nobody deciding is refused.
    reviewed = (
        policy.mode == RemediationMode.GITOPS
        and bool(fix.manifest_patch)
        and not auto_approves(policy, fix)
    )
    if fix.action is None or reviewed:
        return None
    refusal = destructive_refusal(fix.action, policy.allow_destructive)
    return f"{refusal}; a person must decide: {fix.rationale}" if refusal else None


def pull_request_events(pr: PullRequestState) -> list[PullRequestEvent]:
    """What a pull request's state says happened, as the events its webhook would send:
    merged or closed; else a change request; then each approval by someone other than its
    author (selfheal opens it, and may not approve its own change)."""
    events = []
    if pr.merged:
        events.append(PullRequestEvent(action=PullRequestAction.MERGED, number=pr.number))
    elif not pr.open:
        events.append(PullRequestEvent(action=PullRequestAction.CLOSED, number=pr.number))
    elif pr.changes_requested_by:
        events.append(
            PullRequestEvent(
                action=PullRequestAction.CHANGES_REQUESTED,
                number=pr.number,
                by=pr.changes_requested_by[0],
            )
        )
    events += [
        PullRequestEvent(action=PullRequestAction.APPROVED, number=pr.number, by=reviewer)
        for reviewer in pr.approved_by
        if reviewer != pr.author
    ]
    return events


# --- what the incident says --------------------------------------------------------------


def unexplained(status: IncidentStatus, diagnosis: Diagnosis) -> str:
    """Why an alert that still fires about a workload that looks healthy needs a person."""
    names = ", ".join(status.alert_names) or status.alert_name
    advice = diagnosis.recommendation or "look at what pod state cannot show"
    return (
        f"the cluster does not show why {names} fires for {status.namespace}/"
        f"{status.service}: {diagnosis.summary}. {advice} selfheal changed nothing; "
        "the incident closes by itself when the alert resolves"
    )


def resolved_by_itself(status: IncidentStatus, when: str) -> str:
    """The resolution of an incident whose alerts all resolved with nothing changed."""
    note = (
        f"the alert resolved by itself {when}: {alerts_summary(status)} "
        "no longer firing; selfheal changed nothing"
    )
    if status.pr_number is not None:
        note += f"; pull request #{status.pr_number} closed unmerged"
    return note


def alerts_summary(status: IncidentStatus) -> str:
    """`4 alert(s) (A, B)`: how many alerts joined, and their names."""
    names = ", ".join(status.alert_names) or status.alert_name
    return f"{status.alert_count} alert(s) ({names})"


def recurrence(previous: IncidentEnding, now: datetime) -> str:
    """`recurred 12 min after inc-… was resolved`."""
    minutes = int((now - previous.ended_at).total_seconds() // 60)
    ended = "was resolved" if previous.state == IncidentState.RESOLVED else "ended"
    return f"recurred {minutes} min after {previous.incident_id} {ended}"


def story(status: IncidentStatus) -> str:
    """The timeline as plain lines, for a ticket that missed it."""
    return "\n".join(
        f"{entry.at:%Y-%m-%d %H:%M:%S} UTC {entry.state.value}: {entry.note}"
        + (f" (by {entry.by})" if entry.by else "")
        for entry in status.timeline
    )


def human(duration: timedelta) -> str:
    """`4h`, `90s`: a duration as the settings write it."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# --- failures ----------------------------------------------------------------------------


def _root_cause(err: ActivityError) -> BaseException | None:
    """The failure under the activity (and child workflow) wrappers."""
    cause: BaseException | None = err.cause
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    return cause


def reason(err: ActivityError) -> str:
    """The sentence a person can act on, from an activity's final failure."""
    cause = _root_cause(err)
    if isinstance(cause, ApplicationError):
        return f"{cause.message} [{cause.type}]" if cause.type else cause.message
    return str(cause or err)


def permanent(err: ActivityError) -> bool:
    """True when the activity's final failure says retrying will not help."""
    cause = _root_cause(err)
    return isinstance(cause, ApplicationError) and cause.non_retryable
