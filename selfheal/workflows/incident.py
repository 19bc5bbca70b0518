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
    from selfheal.domain import (
        ActionKind,
        Alert,
        AlertBatch,
        AnalysisRequest,
        AnalyzerChoice,
        Approval,
        ApprovalRecord,
        ClosePullRequest,
        ClusterContext,
        ContextRequest,
        Diagnosis,
        DiagnosisRequest,
        FixProposal,
        FixRequest,
        GuardNotice,
        HealthCheckRequest,
        IncidentInput,
        IncidentPolicy,
        IncidentState,
        IncidentStatus,
        InvestigationRequest,
        InvestigationResult,
        ManualResolution,
        MergeRequest,
        PolicyRequest,
        PullRequestAction,
        PullRequestEvent,
        PullRequestRef,
        PullRequestRequest,
        Rejection,
        RemediationAction,
        RemediationMode,
        RemediationRequest,
        RetryRequest,
        RevertRequest,
        RolloutRequest,
        SignalAck,
        TicketRequest,
        TimelineEntry,
        WorkloadAnalysis,
    )
    from selfheal.workflows import alert_book, judgement, search
    from selfheal.workflows.activity_calls import (
        ANALYZE_WORKLOAD,
        APPLY_REMEDIATION,
        CLOSE_PULL_REQUEST,
        DIAGNOSE,
        GATHER_CONTEXT,
        GET_PULL_REQUEST,
        LOAD_POLICY,
        MERGE_PULL_REQUEST,
        OPEN_PULL_REQUEST,
        OPEN_REVERT_PULL_REQUEST,
        PROPOSE_FIX,
        VERIFY_HEALTH,
        WAIT_ROLLOUT,
        call,
    )
    from selfheal.workflows.judgement import human, reason
    from selfheal.workflows.permits import Permits
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

ONE_STEP_ANALYSIS = "one-step-analysis"
"""Patch: the rules path gathers, diagnoses and proposes in one activity (analyze_workload)."""

TICKET_CATCH_UP = "ticket-catch-up"
"""Patch: an incident that ends without the ticket an outage kept away hands it over."""

WORKLOAD_IDENTITY = "workload-identity"
"""Patch: an incident is its workload's (alerts of any name join it), it checks its cluster,
and it never closes what it cannot explain: no fault while the alert fires escalates, all
alerts resolving with nothing changed closes it as resolved by itself, and verification
waits for the alerts that paged to clear."""


class _ModelFailed(Exception):
    """The model investigation gave no diagnosis and the policy forbids the rules."""


class _Decision:
    """A person's (or the pull request's) answer to the current human wait."""

    def __init__(self, approved: bool, by: str, note: str = "", merged: bool = False) -> None:
        self.approved = approved
        self.by = by
        self.note = note
        self.merged = merged


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
        self._decision: _Decision | None = None
        self._followup: RetryRequest | ManualResolution | None = None
        # Per attempt, until the fix is proposed; re-read after continue-as-new.
        self._context: ClusterContext | None = None
        self._analysis: WorkloadAnalysis | None = None
        self._manifest_path: str | None = None
        self._tickets = TicketMirror(
            self._status,
            lambda: self._policy_or_default,
            self._ticket_request,
            self._note,
            failed_before=input.status is not None,
        )
        self._permits = Permits(
            self._status,
            lambda: self._policy_or_default,
            lambda: self._first_alert.target,
            self._note,
            self._wait_for,
        )
        if input.alert is not None:
            self._take_alerts([input.alert], 1)

    # --- the state machine -----------------------------------------------------------------

    @workflow.run
    async def run(self, input: IncidentInput) -> IncidentStatus:
        self._honest = workflow.patched(WORKLOAD_IDENTITY)
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
                await self._record(self._status.state, step.note)
                break
        if self._tickets.outstanding and workflow.patched(TICKET_CATCH_UP):
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
            diagnosis = await self._diagnose_workload()
        except ActivityError as err:
            return escalate(f"analysis failed: {reason(err)}")
        except _ModelFailed as failure:
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
        analysis, self._analysis = self._analysis, None
        if analysis is not None and analysis.no_fix:
            return escalate(f"no safe fix: {analysis.no_fix}")
        try:
            fix = analysis.fix if analysis and analysis.fix else await self._propose_fix()
        except ActivityError as err:
            return escalate(f"no safe fix: {reason(err)}")
        self._status.fix = fix
        # Nothing after the proposal reads the cluster snapshot; a thousand waiting incidents
        # need not each hold theirs in the worker's memory.
        self._context = None
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
            return await self._apply(fix)
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
                    manifest_path=self._manifest_path,
                ),
            )
        except ActivityError as err:
            return escalate(f"could not open the pull request: {reason(err)}")
        self._status.pr_url, self._status.pr_number = pr.url, pr.number
        if judgement.auto_approves(policy, fix):
            self._record_auto_approval(fix)
            return await self._merge(approved_by="selfheal (auto-approve policy)")
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
                return resolve(await self._close_pull_request(note))
            remaining = self._remaining()
            if remaining <= timedelta(0):
                return escalate(
                    await self._close_pull_request(
                        f"review deadline passed: no decision within {human(policy.review_timeout)}"
                    )
                )
            await self._wait_for(
                lambda: self._decision is not None or self._resolved_by_itself(),
                min(remaining, policy.pr_poll_interval),
            )
            if self._decision is None and self._history_is_long():
                return Stay()
            if self._decision is None and self._remaining() > timedelta(0):
                await self._poll_pull_request()
        decision = self._take_decision()
        if not decision.approved:
            return escalate(
                await self._close_pull_request(f"fix rejected by {decision.by}: {decision.note}")
            )
        if decision.merged:
            return Go(DEPLOYING, f"pull request merged by {decision.by}")
        return await self._merge(approved_by=decision.by)

    async def _await_approval(self) -> Transition:
        policy = self._policy_or_default
        remaining = self._remaining()
        if self._decision is None and remaining > timedelta(0):
            await self._wait_for(
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
        return await self._apply(self._status.fix)

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
                ),
                start_to_close=policy.deploy_timeout + _SLACK,
            )
        except ActivityError as err:
            return await self._undo_and_escalate(f"deploy watch failed: {reason(err)}")
        if not rollout.complete:
            return await self._undo_and_escalate(f"the fix did not roll out: {rollout.message}")
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
                ),
                start_to_close=policy.verify_window + _SLACK,
            )
        except ActivityError as err:
            return await self._undo_and_escalate(f"verification failed: {reason(err)}")
        if not report.healthy:
            return await self._undo_and_escalate(f"still unhealthy after the fix: {report.message}")
        verified = f"verified healthy for {human(policy.verify_window)}: {report.message}"
        if self._honest:
            verified += f"; {await self._alerts_cleared()}"
        return resolve(verified)

    async def _await_person(self) -> Transition:
        remaining = self._remaining()
        if self._followup is None and remaining > timedelta(0):
            await self._wait_for(
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

    # --- analysis --------------------------------------------------------------------------

    async def _diagnose_workload(self) -> Diagnosis:
        """Diagnose the alert's workload: the rules in one step, or a model over its context.

        On the rules path the context never enters the workflow (see analysis/offline.py);
        the fix made alongside the diagnosis waits in `_analysis` for FIXING.
        """
        if self._policy_or_default.analyzer == AnalyzerChoice.RULES and workflow.patched(
            ONE_STEP_ANALYSIS
        ):
            self._analysis = await call(
                ANALYZE_WORKLOAD,
                AnalysisRequest(alert=self._first_alert, workload=self._context_request()),
            )
            self._manifest_path = self._analysis.manifest_path
            return self._analysis.diagnosis
        return await self._diagnose(await self._gather_context())

    async def _diagnose(self, context: ClusterContext) -> Diagnosis:
        """The model's diagnosis when the policy asks for one, else (or if it fails) the rules'."""
        policy = self._policy_or_default
        if policy.analyzer != AnalyzerChoice.RULES:
            result = await workflow.execute_child_workflow(
                "InvestigationWorkflow",
                InvestigationRequest(
                    incident_id=self._status.id,
                    alert=self._first_alert,
                    context=context,
                    model=policy.model,
                    max_turns=policy.max_model_turns,
                    max_tokens=policy.max_model_tokens,
                ),
                id=f"{self._status.id}-investigation-{self._status.attempt}",
                result_type=InvestigationResult,
            )
            self._status.usage = self._status.usage.add(result.usage)
            if result.diagnosis is not None:
                return result.diagnosis
            if policy.analyzer == AnalyzerChoice.MODEL_ONLY:
                raise _ModelFailed(result.failure)
            self._note(
                ANALYZING,
                f"model investigation failed ({result.failure}); diagnosing with the offline rules",
                None,
            )
        return await call(
            DIAGNOSE,
            DiagnosisRequest(incident_id=self._status.id, alert=self._first_alert, context=context),
        )

    async def _propose_fix(self) -> FixProposal:
        """The fix for the current diagnosis, from the context (gathered again if not held)."""
        assert self._status.diagnosis is not None
        return await call(
            PROPOSE_FIX,
            FixRequest(
                incident_id=self._status.id,
                diagnosis=self._status.diagnosis,
                context=self._context or await self._gather_context(),
            ),
        )

    def _context_request(self) -> ContextRequest:
        """Which workload's context to read: the one the first alert names, where it runs."""
        alert = self._first_alert
        assert alert.namespace and alert.workload
        return ContextRequest(
            incident_id=self._status.id,
            cluster=alert.cluster or "",
            namespace=alert.namespace,
            workload=alert.workload,
        )

    async def _gather_context(self) -> ClusterContext:
        self._context = await call(GATHER_CONTEXT, self._context_request())
        self._manifest_path = self._context.manifest_path()
        return self._context

    # --- changes ---------------------------------------------------------------------------

    async def _apply(self, fix: FixProposal) -> Transition:
        assert fix.action is not None
        refusal = await self._permits.ask(f"apply {fix.kind.value}")
        if refusal:
            return escalate(refusal)
        try:
            result = await call(
                APPLY_REMEDIATION,
                RemediationRequest(
                    incident_id=self._status.id, action=fix.action, cluster=self._status.cluster
                ),
            )
        except ActivityError as err:
            return escalate(f"could not apply {fix.kind.value}: {reason(err)}")
        self._status.actions_taken += 1
        if self._status.previous_revision is None:
            self._status.previous_revision = result.previous_revision
        return Go(DEPLOYING, f"applied {fix.kind.value}: {result.description}")

    async def _merge(self, approved_by: str) -> Transition:
        number = self._status.pr_number
        assert number is not None
        refusal = await self._permits.ask(f"merge pull request #{number}")
        if refusal:
            return escalate(refusal)
        try:
            await call(
                MERGE_PULL_REQUEST,
                MergeRequest(incident_id=self._status.id, number=number, approved_by=approved_by),
            )
        except ActivityError as err:
            return escalate(f"could not merge the pull request: {reason(err)}")
        self._status.actions_taken += 1
        return Go(
            DEPLOYING, f"approved by {approved_by}; merged pull request #{number}", approved_by
        )

    async def _poll_pull_request(self) -> None:
        """The fallback for a lost webhook: read the pull request and act as its events would."""
        assert self._status.pr_number is not None
        try:
            pr = await call(
                GET_PULL_REQUEST,
                PullRequestRef(incident_id=self._status.id, number=self._status.pr_number),
            )
        except ActivityError:
            return  # polling is a fallback; the next poll or the webhook will tell
        for event in judgement.pull_request_events(pr):
            self.pr_event(event)

    async def _close_pull_request(self, reason_: str) -> str:
        """Close the fix's pull request unmerged, saying why; return the reason, with the
        failure appended if it stayed open."""
        if self._status.pr_number is not None:
            try:
                await call(
                    CLOSE_PULL_REQUEST,
                    ClosePullRequest(
                        incident_id=self._status.id, number=self._status.pr_number, reason=reason_
                    ),
                )
            except ActivityError as err:
                reason_ = f"{reason_} (pull request left open: {reason(err)})"
        return reason_

    async def _undo_and_escalate(self, why: str) -> Transition:
        """Put the workload back as it was before selfheal changed it, then escalate."""
        policy, alert, status = self._policy_or_default, self._first_alert, self._status
        assert alert.namespace and alert.workload
        undo = "rollback" if policy.mode == RemediationMode.DIRECT else "revert pull request"
        refusal = await self._permits.ask(undo, counts=False)
        if refusal:
            return escalate(f"{why}; {undo} not done: {refusal}")
        try:
            if policy.mode == RemediationMode.DIRECT and status.previous_revision:
                rollback = RemediationAction(
                    kind=ActionKind.ROLLBACK,
                    namespace=alert.namespace,
                    deployment=alert.workload,
                    revision=status.previous_revision,
                )
                result = await call(
                    APPLY_REMEDIATION,
                    RemediationRequest(
                        incident_id=status.id, cluster=status.cluster, action=rollback
                    ),
                )
                status.actions_taken += 1
                why = f"{why}; rolled back: {result.description}"
            elif policy.mode == RemediationMode.GITOPS and status.pr_number is not None:
                revert = await call(
                    OPEN_REVERT_PULL_REQUEST,
                    RevertRequest(incident_id=status.id, number=status.pr_number, reason=why),
                )
                why = f"{why}; opened revert pull request #{revert.number}: {revert.url}"
        except ActivityError as err:
            why = f"{why}; undo failed, the workload may still carry the fix: {reason(err)}"
        return escalate(why)

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
        self._decide(True, approval.by, approval.comment, "approve")

    @workflow.signal
    def reject(self, rejection: Rejection) -> None:
        """Reject the proposed fix; the incident escalates."""
        self._decide(False, rejection.by, rejection.reason, "reject")

    @workflow.update(name="approve")
    def approve_now(self, approval: Approval) -> SignalAck:
        """Approve and answer at once; refused approvals are rejected by the validator."""
        self.approve(approval)
        return self._ack("approved")

    @approve_now.validator
    def _validate_approve(self, approval: Approval) -> None:
        self._refuse(self._approval_refusal(approval.by))

    @workflow.update(name="reject")
    def reject_now(self, rejection: Rejection) -> SignalAck:
        """Reject and answer at once; refused rejections are rejected by the validator."""
        self.reject(rejection)
        return self._ack("rejected")

    @reject_now.validator
    def _validate_reject(self, rejection: Rejection) -> None:
        self._refuse(self._approval_refusal(rejection.by))

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
        by = event.by or "github"
        if event.action == PullRequestAction.APPROVED:
            self.approve(Approval(by=by, comment=event.comment or "approved on GitHub"))
        elif event.action == PullRequestAction.CHANGES_REQUESTED:
            self.reject(Rejection(by=by, reason=event.comment or "changes requested on GitHub"))
        elif event.action == PullRequestAction.MERGED:
            self._decision = _Decision(True, by, "merged on GitHub", merged=True)
        elif event.action == PullRequestAction.CLOSED:
            self._decision = _Decision(False, by, "pull request closed without merging")

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

    def _decide(self, approved: bool, by: str, comment: str, decision: str) -> None:
        """Record a decision; it counts when the incident waits for one and `by` may decide."""
        refusal = self._approval_refusal(by)
        _audit(
            "incident decision",
            self._status,
            decision=decision,
            by=by,
            comment=comment,
            counted=refusal is None,
            refusal=refusal,
        )
        self._status.approvals.append(
            ApprovalRecord(
                at=workflow.now(),
                by=by,
                decision=decision,
                comment=comment,
                accepted=refusal is None,
                note=refusal or "",
            )
        )
        if refusal is None:
            self._decision = _Decision(approved, by, comment)

    def _ack(self, note: str) -> SignalAck:
        return SignalAck(incident_id=self._status.id, state=self._status.state, note=note)

    def _approval_refusal(self, by: str) -> str | None:
        status, decided = self._status, self._decision is not None
        return judgement.approval_refusal(status.state, decided, self._policy_or_default, by)

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

    def _ticket_request(self) -> TicketRequest:
        alert, previous = self._first_alert, self._previous
        description = alert.summary
        if previous is not None:
            earlier = f" ({previous.ticket_key})" if previous.ticket_key else ""
            again = judgement.recurrence(previous, workflow.now())
            description += f"\n\nThis is a recurrence: {again}{earlier}."
        return TicketRequest(
            incident_id=self._status.id,
            summary=f"[selfheal] {alert.workload or 'unmapped'}: {alert.name}",
            description=description,
            existing_key=alert.ticket_key,
            labels=["selfheal", self._status.id],
        )

    def _take_decision(self) -> _Decision:
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
        self._context = self._manifest_path = self._analysis = None

    def _start_deadline(self, timeout: timedelta) -> None:
        self._status.deadline = workflow.now() + timeout

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
