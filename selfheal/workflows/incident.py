"""IncidentWorkflow: one durable workflow per incident, from first alert to resolution.

    RECEIVED → ANALYZING → FIXING ─┬─ gitops: AWAITING_REVIEW → DEPLOYING → VERIFYING → RESOLVED
                                   ├─ direct: AWAITING_APPROVAL → DEPLOYING → VERIFYING → RESOLVED
                                   └─ observe: RESOLVED (proposal recorded, nothing changed)
    any step that fails for good, a reject, a timeout, or a guardrail → ESCALATED
    ESCALATED waits for a person: `retry` (back to ANALYZING) or `resolve` (RESOLVED, manual)

Each state is one method, in that order below, that does its work and returns where to go
(`Go`, `Stay` to continue as new, `Closed`; transitions.py declares every edge). The
decisions that need no workflow are in judgement.py, the ticket and chat in ticket_mirror.py,
the guard's permits in permits.py, the alerts in alert_book.py. Human waits keep their
deadline in the status, so a continue-as-new in the middle of a wait resumes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.github import OPEN_PULL_REQUEST, PullRequestRequest
    from selfheal.contracts.kubernetes import (
        VERIFY_HEALTH,
        WAIT_ROLLOUT,
        HealthCheckRequest,
        RolloutRequest,
    )
    from selfheal.contracts.policy import LOAD_POLICY, PolicyRequest
    from selfheal.model.alerts import Alert, AlertBatch
    from selfheal.model.decisions import (
        Approval,
        ManualResolution,
        PullRequestAction,
        PullRequestEvent,
        Rejection,
        RetryRequest,
        SignalAck,
    )
    from selfheal.model.diagnosis import FixProposal
    from selfheal.model.guard import GuardNotice
    from selfheal.model.incident import (
        ApprovalRecord,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        TimelineEntry,
    )
    from selfheal.model.policy import IncidentPolicy, RemediationMode
    from selfheal.workflows import alert_book, judgement, patches, search
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.analysis import Analyst, ModelFailed
    from selfheal.workflows.changes import Changes, workload_kind
    from selfheal.workflows.judgement import Decision, human, reason
    from selfheal.workflows.permits import Permits
    from selfheal.workflows.reminders import Reminders
    from selfheal.workflows.symptom import symptom_after_fix
    from selfheal.workflows.ticket_mirror import TicketMirror
    from selfheal.workflows.transitions import (
        ANALYZING,
        AWAITING_APPROVAL,
        AWAITING_REVIEW,
        DEPLOYING,
        ESCALATED,
        FIXING,
        RECEIVED,
        RESOLVED,
        VERIFYING,
        Closed,
        Go,
        Stay,
        Transition,
        escalate,
        resolve,
    )

_SLACK = timedelta(minutes=2)
"""Added to an activity's own deadline so a slow start does not fail it."""

"""Patch: an incident is its workload's (alerts of any name join it), it checks its cluster,
and it never closes what it cannot explain: no fault while the alert fires escalates, all
alerts resolving with nothing changed closes it as resolved by itself, and verification
waits for the alerts that paged to clear."""


@workflow.defn
class IncidentWorkflow:
    """One incident: analyse, propose, get approval, apply, verify; escalate to a person."""

    @workflow.init
    def __init__(self, input: IncidentInput) -> None:
        self._status = input.status or IncidentStatus(id=input.incident_id)
        self._policy: IncidentPolicy | None = input.policy
        self._previous = input.previous
        if input.workload_id is not None:
            self._status.workload_id = input.workload_id
            self._status.previous_incident = input.previous.incident_id if input.previous else None
        # Set in `run` (patched); the first alert below counts the way an older run did.
        self._honest = False
        self._closing = False  # past its last transition: alerts are handed back (patched)
        self._decision: Decision | None = None
        self._followup: RetryRequest | ManualResolution | None = None
        self._analyst = Analyst(
            self._status, lambda: self._policy_or_default, lambda: self._first_alert, self._note
        )
        self._tickets = TicketMirror(
            self._status,
            lambda: self._policy_or_default,
            self._note,
            previous=input.previous,
            failed_before=input.status is not None,
        )
        self._permits = Permits(
            self._status,
            lambda: self._policy_or_default,
            lambda: self._first_alert.target,
            self._note,
            self._wait_for,
        )
        self._changes = Changes(
            self._status, lambda: self._policy_or_default, lambda: self._first_alert, self._permits
        )
        self._reminders = Reminders(self._status, lambda: self._policy_or_default, self._record)
        if input.alert is not None:
            self._take_alerts([input.alert], 1)

    # --- the state machine -----------------------------------------------------------------

    @workflow.run
    async def run(self, input: IncidentInput) -> IncidentStatus:
        self._honest = workflow.patched(patches.WORKLOAD_IDENTITY)
        await workflow.wait_condition(lambda: self._status.first_alert is not None)
        if self._policy is None:
            await self._start_incident()
        steps: dict[IncidentState, Callable[[], Awaitable[Transition]]] = {
            RECEIVED: self._receive,
            ANALYZING: self._analyze,
            FIXING: self._fix,
            AWAITING_REVIEW: self._await_review,
            AWAITING_APPROVAL: self._await_approval,
            DEPLOYING: self._deploy,
            VERIFYING: self._verify,
            ESCALATED: self._await_person,
        }
        while self._status.state != RESOLVED:
            if self._history_is_long():
                await self._continue_as_new()
            step = await steps[self._status.state]()
            if isinstance(step, Go):
                await self._enter(step)
            elif isinstance(step, Closed):
                self._closing = True
                await self._record(self._status.state, step.note)
                break
        if self._tickets.outstanding and workflow.patched(patches.TICKET_CATCH_UP):
            await self._tickets.hand_over()
        return self._status

    async def _start_incident(self) -> None:
        alert = self._first_alert
        self._policy = await call(
            LOAD_POLICY, PolicyRequest(incident_id=self._status.id, alert=alert)
        )
        self._status.mode = self._policy.mode
        note = f"{alert.name} from {alert.source.value}: {alert.summary or 'no summary'}"
        if self._previous is not None:
            note += f"; {judgement.recurrence(self._previous, workflow.now())}"
        await self._enter(Go(RECEIVED, note))
        if self._policy.ticketing:
            await self._tickets.open()

    async def _receive(self) -> Transition:
        if not self._first_alert.workload or not self._first_alert.namespace:
            return escalate(
                "the alert names no Kubernetes workload and no service map entry matched it; "
                "map it (labels namespace/deployment or SELFHEAL_SERVICE_MAP) or handle it by hand"
            )
        clusters = self._policy_or_default.clusters
        if self._honest and clusters and self._status.cluster not in clusters:
            return escalate(
                f"the alert is about cluster {self._status.cluster}, which this worker does not "
                f"reach (it knows {', '.join(clusters)}); nothing was read or changed. Add it to "
                "SELFHEAL_CLUSTERS (name=kubeconfig-context) and retry, or handle it by hand"
            )
        return Go(ANALYZING, "gathering cluster context")

    async def _analyze(self) -> Transition:
        try:
            diagnosis = await self._analyst.diagnose()
        except ActivityError as err:
            return escalate(f"analysis failed: {reason(err)}")
        except ModelFailed as failure:
            return escalate(f"model investigation failed and the rules are off: {failure}")
        self._status.diagnosis = diagnosis
        if not diagnosis.fault_found:
            if self._honest:
                if self._status.alert_firing:
                    return escalate(judgement.unexplained(self._status, diagnosis))
                when = f"({diagnosis.summary})"
                return resolve(judgement.resolved_by_itself(self._status, when))
            return resolve(f"no fault found: {diagnosis.summary}; nothing was changed")
        if not self._status.alert_firing:
            return resolve(
                f"self-recovered: the alert resolved during analysis ({diagnosis.summary})"
            )
        return Go(
            FIXING,
            f"{diagnosis.category.value} ({diagnosis.confidence:.0%}, {diagnosis.analyzer}): "
            f"{diagnosis.summary}",
        )

    async def _fix(self) -> Transition:
        assert self._status.diagnosis is not None
        policy = self._policy_or_default
        analysis = self._analyst.proposal()
        if analysis is not None and analysis.no_fix:
            return escalate(f"no safe fix: {analysis.no_fix}")
        try:
            fix = analysis.fix if analysis and analysis.fix else await self._analyst.propose_fix()
        except ActivityError as err:
            return escalate(f"no safe fix: {reason(err)}")
        self._status.fix = fix
        self._analyst.drop_context()
        if not fix.actionable:
            advice = self._status.diagnosis.recommendation or fix.rationale
            return escalate(f"no safe automatic fix for this failure; {advice}")
        if policy.mode == RemediationMode.OBSERVE:
            return resolve(
                f"observe mode: proposed {fix.kind.value} ({fix.rationale}); nothing was changed"
            )
        refusal = judgement.guardrail_refusal(policy, self._status.namespace, fix)
        if refusal:
            return escalate(refusal)
        if policy.mode == RemediationMode.DIRECT:
            return await self._propose_direct(fix)
        return await self._propose_pull_request(fix)

    async def _propose_direct(self, fix: FixProposal) -> Transition:
        policy = self._policy_or_default
        if judgement.auto_approves(policy, fix):
            self._record_auto_approval(fix)
            return await self._changes.apply(fix)
        self._start_deadline(policy.approval_timeout)
        return Go(
            AWAITING_APPROVAL,
            f"proposed {fix.kind.value} (risk {fix.risk.value}): {fix.rationale}; "
            f"a person must approve ({judgement.approval_rule(policy)})",
        )

    async def _propose_pull_request(self, fix: FixProposal) -> Transition:
        alert, policy = self._first_alert, self._policy_or_default
        assert alert.namespace and alert.workload and self._status.diagnosis
        try:
            pr = await call(
                OPEN_PULL_REQUEST,
                PullRequestRequest(
                    incident_id=self._status.id,
                    namespace=alert.namespace,
                    deployment=alert.workload,
                    diagnosis=self._status.diagnosis,
                    fix=fix,
                    ticket_key=self._status.ticket_key,
                    attempt=self._status.attempt,
                    manifest_path=self._analyst.manifest_path,
                ),
            )
        except ActivityError as err:
            return escalate(f"could not open the pull request: {reason(err)}")
        self._status.pr_url, self._status.pr_number = pr.url, pr.number
        if judgement.auto_approves(policy, fix):
            self._record_auto_approval(fix)
            return await self._changes.merge(approved_by="selfheal (auto-approve policy)")
        self._start_deadline(policy.review_timeout)
        return Go(
            AWAITING_REVIEW,
            f"opened pull request #{pr.number} ({fix.kind.value}, risk {fix.risk.value}): "
            f"{pr.url}; a person must review ({judgement.approval_rule(policy)})",
        )

    async def _await_review(self) -> Transition:
        policy = self._policy_or_default
        while self._decision is None:
            if self._resolved_by_itself():
                note = judgement.resolved_by_itself(self._status, "before anyone decided")
                return resolve(await self._changes.close_pull_request(note))
            remaining = self._remaining()
            if remaining <= timedelta(0):
                return escalate(
                    await self._changes.close_pull_request(
                        f"review deadline passed: no decision within {human(policy.review_timeout)}"
                    )
                )
            await self._wait_for_person(
                lambda: self._decision is not None or self._resolved_by_itself(),
                min(remaining, policy.pr_poll_interval),
            )
            if self._decision is None and self._history_is_long():
                return Stay()
            if self._decision is None and self._remaining() > timedelta(0):
                for event in await self._changes.pull_request_events():
                    self.pr_event(event)  # as the webhook that may have been lost would
        decision = self._take_decision()
        if not decision.approved:
            return escalate(
                await self._changes.close_pull_request(
                    f"fix rejected by {decision.by}: {decision.note}"
                )
            )
        if decision.merged:
            return Go(DEPLOYING, f"pull request merged by {decision.by}")
        return await self._changes.merge(approved_by=decision.by)

    async def _await_approval(self) -> Transition:
        policy = self._policy_or_default
        remaining = self._remaining()
        if self._decision is None and remaining > timedelta(0):
            await self._wait_for_person(
                lambda: self._decision is not None or self._resolved_by_itself(), remaining
            )
        if self._decision is None:
            if self._resolved_by_itself():
                return resolve(judgement.resolved_by_itself(self._status, "before anyone decided"))
            if self._history_is_long():
                return Stay()
            return escalate(
                f"approval deadline passed: no decision within {human(policy.approval_timeout)}"
            )
        decision = self._take_decision()
        if not decision.approved:
            return escalate(f"fix rejected by {decision.by}: {decision.note}")
        assert self._status.fix is not None
        return await self._changes.apply(self._status.fix)

    async def _deploy(self) -> Transition:
        alert, policy, fix = self._first_alert, self._policy_or_default, self._status.fix
        assert alert.namespace and alert.workload and fix is not None
        expected = fix.manifest_patch if policy.mode == RemediationMode.GITOPS else None
        try:
            rollout = await call(
                WAIT_ROLLOUT,
                RolloutRequest(
                    incident_id=self._status.id,
                    cluster=self._status.cluster,
                    namespace=alert.namespace,
                    deployment=alert.workload,
                    timeout=policy.deploy_timeout,
                    expected_template=expected,
                    kind=workload_kind(alert),
                ),
                start_to_close=policy.deploy_timeout + _SLACK,
            )
        except ActivityError as err:
            return await self._changes.undo_and_escalate(f"deploy watch failed: {reason(err)}")
        if not rollout.complete:
            return await self._changes.undo_and_escalate(
                f"the fix did not roll out: {rollout.message}"
            )
        return Go(VERIFYING, f"rollout complete: {rollout.message}")

    async def _verify(self) -> Transition:
        alert, policy = self._first_alert, self._policy_or_default
        assert alert.namespace and alert.workload
        try:
            report = await call(
                VERIFY_HEALTH,
                HealthCheckRequest(
                    incident_id=self._status.id,
                    cluster=self._status.cluster,
                    namespace=alert.namespace,
                    deployment=alert.workload,
                    window=policy.verify_window,
                    kind=workload_kind(alert),
                ),
                start_to_close=policy.verify_window + _SLACK,
            )
        except ActivityError as err:
            return await self._changes.undo_and_escalate(f"verification failed: {reason(err)}")
        if not report.healthy:
            return await self._changes.undo_and_escalate(
                f"still unhealthy after the fix: {report.message}"
            )
        verified = f"verified healthy for {human(policy.verify_window)}: {report.message}"
        if workflow.patched(patches.SYMPTOM_VERIFIED):
            symptom = await symptom_after_fix(self._status, alert, workload_kind(alert), policy)
            if symptom.holds:
                return await self._changes.undo_and_escalate(
                    f"the fix left the symptom in place: {symptom.message}"
                )
            if symptom.failed and workflow.patched(patches.SYMPTOM_UNCHECKED_ESCALATES):
                return escalate(
                    f"{verified}, but {symptom.message}; the fix is left in place and a "
                    "person must confirm the alert has cleared"
                )
            verified += f"; {symptom.message}"
        if self._honest:
            verified += f"; {await self._alerts_cleared()}"
        return resolve(verified)

    async def _await_person(self) -> Transition:
        remaining = self._remaining()
        if self._followup is None and remaining > timedelta(0):
            await self._wait_for_person(
                lambda: self._followup is not None or self._resolved_by_itself(), remaining
            )
        followup, self._followup = self._followup, None
        if followup is None and self._resolved_by_itself():
            return resolve(
                judgement.resolved_by_itself(self._status, "while it waited for a person")
            )
        if isinstance(followup, RetryRequest):
            self._reset_for_retry()
            return Go(
                ANALYZING, f"retry requested: {followup.note or 'analysing again'}", followup.by
            )
        if isinstance(followup, ManualResolution):
            return resolve(f"resolved by hand: {followup.note or 'no note'}", followup.by)
        if self._history_is_long():
            return Stay()
        return Closed(
            f"closed unattended: nobody acted within "
            f"{human(self._policy_or_default.escalation_timeout)}; "
            "a new alert opens a new incident"
        )

    # --- entering a state ------------------------------------------------------------------

    async def _enter(self, step: Go) -> None:
        """Enter the step's state: its bookkeeping, the timeline, the UI, the ticket."""
        status = self._status
        if step.state == ESCALATED:
            status.escalation_reason = step.note
            self._start_deadline(self._policy_or_default.escalation_timeout)
        elif step.state == RESOLVED:
            status.resolution = step.note
        elif step.state not in (AWAITING_REVIEW, AWAITING_APPROVAL):
            status.deadline = None
        if step.state == RESOLVED:
            status.deadline = None
        status.state = step.state
        self._note(step.state, step.note, step.by)
        search.publish(status)
        await self._tickets.mirror(step.state, step.note)

    async def _record(self, state: IncidentState, note: str, by: str | None = None) -> None:
        """Add a timeline entry without changing state, and mirror it to the ticket."""
        self._note(state, note, by)
        search.publish(self._status)
        await self._tickets.mirror(state, note)

    def _note(self, state: IncidentState, note: str, by: str | None) -> None:
        """One timeline entry (and one structured log event)."""
        self._status.timeline.append(
            TimelineEntry(at=workflow.now(), state=state, note=note, by=by)
        )
        _audit("incident timeline", self._status, state=state.value, note=note, by=by)

    # --- decisions without a person ------------------------------------------------------

    def _record_auto_approval(self, fix: FixProposal) -> None:
        why = f"{judgement.approval_rule(self._policy_or_default)} allows risk {fix.risk.value}"
        self._status.approvals.append(
            ApprovalRecord(
                at=workflow.now(), by="selfheal", decision="approve", comment=why, accepted=True
            )
        )
        self._note(self._status.state, f"approved without a person: {why}", None)

    # --- alerts ----------------------------------------------------------------------------

    def _take_alerts(self, alerts: list[Alert], count: int) -> None:
        closing = self._closing or self._status.state == RESOLVED
        if closing and workflow.patched(patches.ALERTS_AFTER_CLOSE):
            alert_book.hand_back(self._status, alerts)
            return
        for alert in alert_book.take_alerts(self._status, alerts, count):
            summary = alert.summary or "no summary"
            self._note(
                self._status.state, f"{alert.name} joined ({alert.source.value}): {summary}", None
            )

    def _resolved_by_itself(self) -> bool:
        """True when every alert has resolved and selfheal has changed nothing."""
        status = self._status
        return self._honest and not status.alert_firing and status.actions_taken == 0

    async def _alerts_cleared(self) -> str:
        """Wait, up to SELFHEAL_ALERT_CLEAR_TIMEOUT, for the alerts that paged to resolve
        (those whose sender reports resolution); say how that went."""
        firing = alert_book.resolvable_firing(self._status)
        if not firing:
            return "every alert that paged has resolved"
        timeout = self._policy_or_default.alert_clear_timeout
        self._note(
            VERIFYING, f"waiting up to {human(timeout)} for {', '.join(firing)} to resolve", None
        )
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: not alert_book.resolvable_firing(self._status), timeout=timeout
            )
        still = alert_book.resolvable_firing(self._status)
        if not still:
            return "every alert that paged has resolved"
        return (
            f"{', '.join(still)} still fired {human(timeout)} later (SELFHEAL_ALERT_CLEAR_"
            "TIMEOUT); if it keeps firing, its next notification opens a new incident"
        )

    # --- signals, updates, query: each update answers at once for the signal of its name ---

    @workflow.signal
    def alert(self, alert: Alert) -> None:
        """Count an alert about this incident; the first one describes it."""
        self._take_alerts([alert], 1)

    @workflow.signal
    def alerts(self, batch: AlertBatch) -> None:
        """Count the alerts the workload passes on; each distinct one's state is followed."""
        self._take_alerts(batch.alerts, batch.count)

    @workflow.signal
    def approve(self, approval: Approval) -> None:
        """Approve the proposed fix (ignored, but recorded, outside an approval wait)."""
        self._decide(approval)

    @workflow.signal
    def reject(self, rejection: Rejection) -> None:
        """Reject the proposed fix; the incident escalates."""
        self._decide(rejection)

    @workflow.update(name="approve")
    def approve_now(self, approval: Approval) -> SignalAck:
        """Approve and answer at once; refused approvals are rejected by the validator."""
        self.approve(approval)
        return self._ack("approved")

    @approve_now.validator
    def _validate_approve(self, approval: Approval) -> None:
        self._refuse(self._approval_refusal(approval.by, approval.proposal))

    @workflow.update(name="reject")
    def reject_now(self, rejection: Rejection) -> SignalAck:
        """Reject and answer at once; refused rejections are rejected by the validator."""
        self.reject(rejection)
        return self._ack("rejected")

    @reject_now.validator
    def _validate_reject(self, rejection: Rejection) -> None:
        self._refuse(self._approval_refusal(rejection.by, rejection.proposal))

    @workflow.signal
    def retry(self, request: RetryRequest) -> None:
        """Send an ESCALATED incident back to analysis."""
        if self._status.state == ESCALATED:
            self._followup = request

    @workflow.signal
    def resolve(self, request: ManualResolution) -> None:
        """Close an ESCALATED incident as resolved by a person."""
        if self._status.state == ESCALATED:
            self._followup = request

    @workflow.update(name="retry")
    def retry_now(self, request: RetryRequest) -> SignalAck:
        """Retry and answer at once; refused unless ESCALATED."""
        self.retry(request)
        return self._ack("retrying")

    @retry_now.validator
    def _validate_retry(self, request: RetryRequest) -> None:
        self._refuse(self._unless_escalated())

    @workflow.update(name="resolve")
    def resolve_now(self, request: ManualResolution) -> SignalAck:
        """Resolve by hand and answer at once; refused unless ESCALATED."""
        self.resolve(request)
        return self._ack("resolving")

    @resolve_now.validator
    def _validate_resolve(self, request: ManualResolution) -> None:
        self._refuse(self._unless_escalated())

    @workflow.signal
    def pr_event(self, event: PullRequestEvent) -> None:
        """Act on a review, merge or close of the incident's pull request."""
        if self._status.state != AWAITING_REVIEW or self._decision is not None:
            return
        if self._status.pr_number is not None and event.number != self._status.pr_number:
            return
        by, said = event.by or "github", event.comment
        if event.action == PullRequestAction.APPROVED:
            self.approve(Approval(by=by, comment=said or "approved on GitHub", channel="github"))
        elif event.action == PullRequestAction.CHANGES_REQUESTED:
            changes = said or "changes requested on GitHub"
            self.reject(Rejection(by=by, reason=changes, channel="github"))
        elif event.action == PullRequestAction.MERGED:
            self._decision = Decision(True, by, "merged on GitHub", merged=True)
        elif event.action == PullRequestAction.CLOSED:
            self._decision = Decision(False, by, "pull request closed without merging")

    @workflow.signal
    def guard_changed(self, notice: GuardNotice) -> None:
        """The kill switch was turned on or off; note it, and wake a frozen wait."""
        note = self._permits.switch_changed(notice)
        if note is not None:
            self._note(self._status.state, note, notice.freeze.by)
            search.publish(self._status, frozen=notice.freeze.frozen)

    @workflow.query
    def status(self) -> IncidentStatus:
        """Everything about the incident: state, diagnosis, fix, PR, ticket, timeline."""
        return self._status

    def _decide(self, made: Approval | Rejection) -> None:
        """Record a decision; it counts when the incident waits for one, its maker may decide
        and the proposal it names (if any) is the current one."""
        named = made.proposal if made.proposal and workflow.patched(patches.PROPOSAL_DIGEST) else ""
        refusal = self._approval_refusal(made.by, named)
        record = ApprovalRecord(
            at=workflow.now(),
            by=made.by,
            decision="approve" if isinstance(made, Approval) else "reject",
            comment=made.comment if isinstance(made, Approval) else made.reason,
            accepted=refusal is None,
            note=refusal or "",
            channel=made.channel,
            proposal=named,
        )
        fields = record.model_dump(include={"decision", "by", "comment"})
        _audit(
            "incident decision", self._status, **fields, counted=refusal is None, refusal=refusal
        )
        self._status.approvals.append(record)
        if refusal is None:
            self._decision = Decision(isinstance(made, Approval), made.by, record.comment)

    def _ack(self, note: str) -> SignalAck:
        return SignalAck(incident_id=self._status.id, state=self._status.state, note=note)

    def _approval_refusal(self, by: str, proposal: str = "") -> str | None:
        status, decided = self._status, self._decision is not None
        policy = self._policy_or_default
        return judgement.approval_refusal(status.state, decided, policy, by, proposal, status.fix)

    def _unless_escalated(self) -> str | None:
        state = self._status.state
        return None if state == ESCALATED else f"not escalated (state {state.value})"

    @staticmethod
    def _refuse(refusal: str | None) -> None:
        if refusal is not None:
            raise ApplicationError(refusal, type="DecisionRefused", non_retryable=True)

    # --- small pieces ----------------------------------------------------------------------

    @property
    def _first_alert(self) -> Alert:
        assert self._status.first_alert is not None
        return self._status.first_alert

    @property
    def _policy_or_default(self) -> IncidentPolicy:
        return self._policy or IncidentPolicy()

    def _take_decision(self) -> Decision:
        decision, self._decision = self._decision, None
        assert decision is not None
        return decision

    def _reset_for_retry(self) -> None:
        status = self._status
        status.attempt += 1
        status.diagnosis = status.fix = None
        status.pr_url = status.pr_number = None
        status.escalation_reason = None
        self._decision = None
        self._analyst.forget()

    def _start_deadline(self, timeout: timedelta) -> None:
        self._status.deadline = workflow.now() + timeout
        self._reminders.plan(timeout)

    def _remaining(self) -> timedelta:
        if self._status.deadline is None:
            return timedelta(0)
        return self._status.deadline - workflow.now()

    async def _wait_for(self, condition: Callable[[], bool], timeout: timedelta) -> None:
        """Wait for `condition`, the timeout, or a history long enough to continue as new."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: condition() or self._history_is_long(), timeout=timeout
            )

    async def _wait_for_person(self, condition: Callable[[], bool], timeout: timedelta) -> None:
        """Wait as `_wait_for` does, reminding people at each reminder due on the way."""
        end = workflow.now() + timeout
        while True:
            await self._reminders.send_due()
            left = end - workflow.now()
            step = self._reminders.cap(left)
            await self._wait_for(condition, step)
            if step >= left or condition() or self._history_is_long():
                return

    def _history_is_long(self) -> bool:
        info = workflow.info()
        limit = self._policy_or_default.history_limit
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= limit

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._status.runs += 1
        workflow.continue_as_new(
            IncidentInput(incident_id=self._status.id, status=self._status, policy=self._policy)
        )


def _audit(event: str, status: IncidentStatus, **fields: object) -> None:
    """One structured log event per decision (the workflow logger stays quiet on replay)."""
    workflow.logger.info(
        event,
        extra={"audit": {"incident_id": status.id, "service": status.service, **fields}},
    )
