"""Changing the workload, and taking the change back: what the incident does to the cluster.

A collaborator of IncidentWorkflow (workflow code: it calls activities). Every change asks
the guard first (permits.py); each returns where the incident goes next.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.github import (
        CLOSE_PULL_REQUEST,
        GET_PULL_REQUEST,
        MERGE_PULL_REQUEST,
        OPEN_REVERT_PULL_REQUEST,
        ClosePullRequest,
        MergeRequest,
        PullRequestRef,
        RevertRequest,
    )
    from selfheal.contracts.kubernetes import APPLY_REMEDIATION, RemediationRequest
    from selfheal.model.alerts import DEFAULT_KIND, Alert
    from selfheal.model.decisions import PullRequestEvent
    from selfheal.model.diagnosis import ActionKind, FixProposal, RemediationAction
    from selfheal.model.incident import IncidentStatus
    from selfheal.model.policy import IncidentPolicy, RemediationMode
    from selfheal.workflows import patches
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.judgement import pull_request_events, reason
    from selfheal.workflows.permits import Permits
    from selfheal.workflows.transitions import DEPLOYING, Go, Transition, escalate


def workload_kind(alert: Alert) -> str:
    """The kind of workload the incident changes and watches: the alert's (incidents begun
    before kinds were read change and watch a Deployment)."""
    return alert.kind if workflow.patched(patches.KIND_FROM_ALERT) else DEFAULT_KIND


class Changes:
    """Applies the fix (direct), merges it (gitops), closes or reverts it, and rolls back."""

    def __init__(
        self,
        status: IncidentStatus,
        policy: Callable[[], IncidentPolicy],
        alert: Callable[[], Alert],
        permits: Permits,
    ) -> None:
        self._status = status
        self._policy = policy
        self._alert = alert
        self._permits = permits

    async def apply(self, fix: FixProposal) -> Transition:
        """Patch the cluster with the fix's direct action, once the guard allows it."""
        status = self._status
        assert fix.action is not None
        refusal = await self._permits.ask(f"apply {fix.kind.value}")
        if refusal:
            return escalate(refusal)
        try:
            result = await call(
                APPLY_REMEDIATION,
                RemediationRequest(
                    incident_id=status.id, action=fix.action, cluster=status.cluster
                ),
            )
        except ActivityError as err:
            return escalate(f"could not apply {fix.kind.value}: {reason(err)}")
        status.actions_taken += 1
        if status.previous_revision is None:
            status.previous_revision = result.previous_revision
        return Go(DEPLOYING, f"applied {fix.kind.value}: {result.description}")

    async def merge(self, approved_by: str) -> Transition:
        """Merge the fix's pull request, once the guard allows it."""
        status = self._status
        number = status.pr_number
        assert number is not None
        refusal = await self._permits.ask(f"merge pull request #{number}")
        if refusal:
            return escalate(refusal)
        try:
            await call(
                MERGE_PULL_REQUEST,
                MergeRequest(incident_id=status.id, number=number, approved_by=approved_by),
            )
        except ActivityError as err:
            return escalate(f"could not merge the pull request: {reason(err)}")
        status.actions_taken += 1
        return Go(
            DEPLOYING, f"approved by {approved_by}; merged pull request #{number}", approved_by
        )

    async def pull_request_events(self) -> list[PullRequestEvent]:
        """What the fix's pull request says happened (the fallback for a lost webhook); none
        when it cannot be read now (the next poll or the webhook will tell)."""
        status = self._status
        assert status.pr_number is not None
        try:
            pr = await call(
                GET_PULL_REQUEST, PullRequestRef(incident_id=status.id, number=status.pr_number)
            )
        except ActivityError:
            return []
        return pull_request_events(pr)

    async def close_pull_request(self, why: str) -> str:
        """Close the fix's pull request unmerged, saying why; return the reason, with the
        failure appended if it stayed open."""
        status = self._status
        if status.pr_number is not None:
            try:
                await call(
                    CLOSE_PULL_REQUEST,
                    ClosePullRequest(incident_id=status.id, number=status.pr_number, reason=why),
                )
            except ActivityError as err:
                why = f"{why} (pull request left open: {reason(err)})"
        return why

    async def undo_and_escalate(self, why: str) -> Transition:
        """Put the workload back as it was before selfheal changed it, then escalate."""
        policy, alert, status = self._policy(), self._alert(), self._status
        assert alert.namespace and alert.workload
        undo = "rollback" if policy.mode == RemediationMode.DIRECT else "revert pull request"
        refusal = await self._permits.ask(undo, counts=False)
        if refusal:
            return escalate(f"{why}; {undo} not done: {refusal}")
        try:
            kind = workload_kind(alert)
            if policy.mode == RemediationMode.DIRECT and status.previous_revision:
                rollback = RemediationAction(
                    kind=ActionKind.ROLLBACK,
                    namespace=alert.namespace,
                    deployment=alert.workload,
                    revision=status.previous_revision,
                    workload_kind=kind,
                )
                result = await call(
                    APPLY_REMEDIATION,
                    RemediationRequest(
                        incident_id=status.id, cluster=status.cluster, action=rollback
                    ),
                )
                status.actions_taken += 1
                why = f"{why}; rolled back: {result.description}"
            elif policy.mode == RemediationMode.DIRECT and kind == "CronJob":
                why = f"{why}; not rolled back: a CronJob keeps no revisions to return to"
            elif policy.mode == RemediationMode.GITOPS and status.pr_number is not None:
                revert = await call(
                    OPEN_REVERT_PULL_REQUEST,
                    RevertRequest(incident_id=status.id, number=status.pr_number, reason=why),
                )
                why = f"{why}; opened revert pull request #{revert.number}: {revert.url}"
        except ActivityError as err:
            why = f"{why}; undo failed, the workload may still carry the fix: {reason(err)}"
        return escalate(why)
