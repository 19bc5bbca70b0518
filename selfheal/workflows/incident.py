"""IncidentWorkflow: one durable workflow per incident, from first alert to resolution.

    RECEIVED → ANALYZING → FIXING ─┬─ gitops: AWAITING_REVIEW → DEPLOYING → VERIFYING → RESOLVED
                                   ├─ direct: AWAITING_APPROVAL → DEPLOYING → VERIFYING → RESOLVED
                                   └─ observe: RESOLVED (proposal recorded, nothing changed)
    any step that fails for good, a reject, a timeout, or a guardrail → ESCALATED
    ESCALATED waits for a person: `retry` (back to ANALYZING) or `resolve` (RESOLVED, manual)

Each state is one private method that does its work and returns the next state. Human waits
keep their deadline in the status, so a continue-as-new in the middle of a wait resumes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from selfheal.domain import (
        HUMAN_WAIT_STATES,
        RESOLVING_SOURCES,
        ActionKind,
        Alert,
        AlertBatch,
        AlertStatus,
        AlertTrack,
        AnalysisRequest,
        AnalyzerChoice,
        Approval,
        ApprovalRecord,
        AutoApprovePolicy,
        ClosePullRequest,
        ClusterContext,
        ContextRequest,
        Diagnosis,
        DiagnosisRequest,
        FixProposal,
        FixRequest,
        FreezeState,
        GuardNotice,
        HealthCheckRequest,
        IncidentEnding,
        IncidentInput,
        IncidentPolicy,
        IncidentState,
        IncidentStatus,
        InvestigationRequest,
        InvestigationResult,
        ManualResolution,
        MergeRequest,
        Notification,
        PermitRequest,
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
        RiskLevel,
        RolloutRequest,
        SignalAck,
        TicketCatchUp,
        TicketRequest,
        TicketUpdate,
        TimelineEntry,
        WorkloadAnalysis,
    )
    from selfheal.workflows import search
    from selfheal.workflows.activity_calls import (
        ANALYZE_WORKLOAD,
        APPLY_REMEDIATION,
        CLOSE_PULL_REQUEST,
        DIAGNOSE,
        GATHER_CONTEXT,
        GET_PULL_REQUEST,
        LOAD_POLICY,
        MERGE_PULL_REQUEST,
        NOTIFY,
        OPEN_PULL_REQUEST,
        OPEN_REVERT_PULL_REQUEST,
        OPEN_TICKET,
        PROPOSE_FIX,
        REQUEST_PERMIT,
        UPDATE_TICKET,
        VERIFY_HEALTH,
        WAIT_ROLLOUT,
        call,
    )
    from selfheal.workflows.ticket_catch_up import TicketCatchUpWorkflow

_SLACK = timedelta(minutes=2)
"""Added to an activity's own deadline so a slow start does not fail it."""

_FROZEN_RECHECK = timedelta(minutes=5)
"""While frozen, ask the guard again this often (unfreeze also wakes the incident at once)."""

ONE_STEP_ANALYSIS = "one-step-analysis"
"""Patch: the rules path gathers, diagnoses and proposes in one activity (analyze_workload)."""

TICKET_CATCH_UP = "ticket-catch-up"
"""Patch: an incident that ends without the ticket an outage kept away hands it over."""

TICKET_REFUSAL = "ticket-refusal-asked-once"
"""Patch: a ticket JIRA refused for good is not asked for again at every transition."""

WORKLOAD_IDENTITY = "workload-identity"
"""Patch: an incident is its workload's (alerts of any name join it), it checks its cluster,
and it never closes what it cannot explain: no fault while the alert fires escalates, and all
alerts resolving with nothing changed closes it as resolved by itself."""

ALERT_NAMES_KEPT = 20
"""Distinct alert names an incident lists (and notes in its timeline)."""

ALERTS_TRACKED = 100
"""Distinct alerts whose firing or resolved state an incident follows one by one."""

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


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
        self._pending_note = ""
        self._pending_by: str | None = None
        self._freeze = FreezeState()
        # A ticket JIRA could not open is retried on later transitions (and after a continue-
        # as-new, where a carried status without a key means the first try failed).
        self._ticket_failed = input.status is not None
        self._guard_changed = False
        self._done = False
        if input.alert is not None:
            self._take_alerts([input.alert], 1)

    # --- the state machine -----------------------------------------------------------------

    @workflow.run
    async def run(self, input: IncidentInput) -> IncidentStatus:
        self._honest = workflow.patched(WORKLOAD_IDENTITY)
        await workflow.wait_condition(lambda: self._status.first_alert is not None)
        if self._policy is None:
            await self._start_incident()
        steps: dict[IncidentState, Callable[[], Awaitable[IncidentState | None]]] = {
            IncidentState.RECEIVED: self._receive,
            IncidentState.ANALYZING: self._analyze,
            IncidentState.FIXING: self._fix,
            IncidentState.AWAITING_REVIEW: self._await_review,
            IncidentState.AWAITING_APPROVAL: self._await_approval,
            IncidentState.DEPLOYING: self._deploy,
            IncidentState.VERIFYING: self._verify,
            IncidentState.ESCALATED: self._await_person,
        }
        while self._status.state != IncidentState.RESOLVED and not self._done:
            if self._history_is_long():
                await self._continue_as_new()
            next_state = await steps[self._status.state]()
            if next_state is not None:
                await self._enter(next_state, self._pending_note)
        if self._ticket_outstanding() and workflow.patched(TICKET_CATCH_UP):
            await self._hand_ticket_over()
        return self._status

    async def _start_incident(self) -> None:
        alert = self._first_alert
        self._policy = await call(
            LOAD_POLICY, PolicyRequest(incident_id=self._status.id, alert=alert)
        )
        self._status.mode = self._policy.mode
        note = f"{alert.name} from {alert.source.value}: {alert.summary or 'no summary'}"
        if self._previous is not None:
            note += f"; {self._recurrence(self._previous)}"
        await self._enter(IncidentState.RECEIVED, note)
        if self._policy.ticketing:
            await self._open_ticket()

    async def _receive(self) -> IncidentState:
        if not self._first_alert.workload or not self._first_alert.namespace:
            return self._escalation(
                "the alert names no Kubernetes workload and no service map entry matched it; "
                "map it (labels namespace/deployment or SELFHEAL_SERVICE_MAP) or handle it by hand"
            )
        clusters = self._policy_or_default.clusters
        if self._honest and clusters and self._status.cluster not in clusters:
            return self._escalation(
                f"the alert is about cluster {self._status.cluster}, which this worker does not "
                f"reach (it knows {', '.join(clusters)}); nothing was read or changed. Add it to "
                "SELFHEAL_CLUSTERS (name=kubeconfig-context) and retry, or handle it by hand"
            )
        return self._next(IncidentState.ANALYZING, "gathering cluster context")

    async def _analyze(self) -> IncidentState:
        try:
            diagnosis = await self._diagnose_workload()
        except ActivityError as err:
            return self._escalation(f"analysis failed: {_reason(err)}")
        except _ModelFailed as failure:
            return self._escalation(f"model investigation failed and the rules are off: {failure}")
        self._status.diagnosis = diagnosis
        if not diagnosis.fault_found:
            if self._honest:
                if self._status.alert_firing:
                    return self._escalation(self._unexplained(diagnosis))
                return self._resolution(self._resolved_by_itself_note(f"({diagnosis.summary})"))
            return self._resolution(f"no fault found: {diagnosis.summary}; nothing was changed")
        if not self._status.alert_firing:
            return self._resolution(
                f"self-recovered: the alert resolved during analysis ({diagnosis.summary})"
            )
        return self._next(
            IncidentState.FIXING,
            f"{diagnosis.category.value} ({diagnosis.confidence:.0%}, {diagnosis.analyzer}): "
            f"{diagnosis.summary}",
        )

    async def _fix(self) -> IncidentState:
        assert self._status.diagnosis is not None
        analysis, self._analysis = self._analysis, None
        if analysis is not None and analysis.no_fix:
            return self._escalation(f"no safe fix: {analysis.no_fix}")
        try:
            fix = analysis.fix if analysis and analysis.fix else await self._propose_fix()
        except ActivityError as err:
            return self._escalation(f"no safe fix: {_reason(err)}")
        self._status.fix = fix
        # Nothing after the proposal reads the cluster snapshot; a thousand waiting incidents
        # need not each hold theirs in the worker's memory.
        self._context = None
        if not fix.actionable:
            advice = self._status.diagnosis.recommendation or fix.rationale
            return self._escalation(f"no safe automatic fix for this failure; {advice}")
        if self._policy_or_default.mode == RemediationMode.OBSERVE:
            return self._resolution(
                f"observe mode: proposed {fix.kind.value} ({fix.rationale}); nothing was changed"
            )
        refusal = self._guardrail_refusal(fix)
        if refusal:
            return self._escalation(refusal)
        if self._policy_or_default.mode == RemediationMode.DIRECT:
            return await self._propose_direct(fix)
        return await self._propose_pull_request(fix)

    async def _propose_direct(self, fix: FixProposal) -> IncidentState:
        if self._auto_approves(fix):
            self._record_auto_approval(fix)
            return await self._apply(fix)
        self._start_deadline(self._policy_or_default.approval_timeout)
        return self._next(
            IncidentState.AWAITING_APPROVAL,
            f"proposed {fix.kind.value} (risk {fix.risk.value}): {fix.rationale}; "
            f"a person must approve ({self._approval_rule()})",
        )

    async def _propose_pull_request(self, fix: FixProposal) -> IncidentState:
        alert = self._first_alert
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
            return self._escalation(f"could not open the pull request: {_reason(err)}")
        self._status.pr_url, self._status.pr_number = pr.url, pr.number
        if self._auto_approves(fix):
            self._record_auto_approval(fix)
            return await self._merge(approved_by="selfheal (auto-approve policy)")
        self._start_deadline(self._policy_or_default.review_timeout)
        return self._next(
            IncidentState.AWAITING_REVIEW,
            f"opened pull request #{pr.number} ({fix.kind.value}, risk {fix.risk.value}): "
            f"{pr.url}; a person must review ({self._approval_rule()})",
        )

    async def _await_review(self) -> IncidentState | None:
        policy = self._policy_or_default
        while self._decision is None:
            if self._resolved_by_itself():
                note = self._resolved_by_itself_note("before anyone decided")
                return self._resolution(await self._close_pull_request(note))
            remaining = self._remaining()
            if remaining <= timedelta(0):
                return await self._close_pull_request_and_escalate(
                    f"review deadline passed: no decision within {_human(policy.review_timeout)}"
                )
            await self._wait_for(
                lambda: self._decision is not None or self._resolved_by_itself(),
                min(remaining, policy.pr_poll_interval),
            )
            if self._decision is None and self._history_is_long():
                return None
            if self._decision is None and self._remaining() > timedelta(0):
                await self._poll_pull_request()
        decision = self._take_decision()
        if not decision.approved:
            return await self._close_pull_request_and_escalate(
                f"fix rejected by {decision.by}: {decision.note}"
            )
        if decision.merged:
            return self._next(IncidentState.DEPLOYING, f"pull request merged by {decision.by}")
        return await self._merge(approved_by=decision.by)

    async def _await_approval(self) -> IncidentState | None:
        policy = self._policy_or_default
        remaining = self._remaining()
        if self._decision is None and remaining > timedelta(0):
            await self._wait_for(
                lambda: self._decision is not None or self._resolved_by_itself(), remaining
            )
        if self._decision is None:
            if self._resolved_by_itself():
                return self._resolution(self._resolved_by_itself_note("before anyone decided"))
            if self._history_is_long():
                return None
            return self._escalation(
                f"approval deadline passed: no decision within {_human(policy.approval_timeout)}"
            )
        decision = self._take_decision()
        if not decision.approved:
            return self._escalation(f"fix rejected by {decision.by}: {decision.note}")
        assert self._status.fix is not None
        return await self._apply(self._status.fix)

    async def _deploy(self) -> IncidentState:
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
            return await self._undo_and_escalate(f"deploy watch failed: {_reason(err)}")
        if not rollout.complete:
            return await self._undo_and_escalate(f"the fix did not roll out: {rollout.message}")
        return self._next(IncidentState.VERIFYING, f"rollout complete: {rollout.message}")

    async def _verify(self) -> IncidentState:
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
            return await self._undo_and_escalate(f"verification failed: {_reason(err)}")
        if not report.healthy:
            return await self._undo_and_escalate(f"still unhealthy after the fix: {report.message}")
        verified = f"verified healthy for {_human(policy.verify_window)}: {report.message}"
        if self._honest:
            verified += f"; {await self._alerts_cleared()}"
        return self._resolution(verified)

    async def _alerts_cleared(self) -> str:
        """Wait, up to SELFHEAL_ALERT_CLEAR_TIMEOUT, for the alerts that paged to resolve
        (those whose sender reports resolution); say how that went."""
        if not self._resolvable_firing():
            return "every alert that paged has resolved"
        timeout = self._policy_or_default.alert_clear_timeout
        self._append_timeline(
            IncidentState.VERIFYING,
            f"waiting up to {_human(timeout)} for {', '.join(self._resolvable_firing())} to "
            "resolve",
            None,
        )
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: not self._resolvable_firing(), timeout=timeout)
        still = self._resolvable_firing()
        if not still:
            return "every alert that paged has resolved"
        return (
            f"{', '.join(still)} still fired {_human(timeout)} later (SELFHEAL_ALERT_CLEAR_"
            "TIMEOUT); if it keeps firing, its next notification opens a new incident"
        )

    def _resolvable_firing(self) -> list[str]:
        """The names of firing alerts whose sender will say when they resolve."""
        tracks = self._status.alerts.values()
        return sorted(
            {track.name for track in tracks if track.firing and track.source in RESOLVING_SOURCES}
        )

    async def _await_person(self) -> IncidentState | None:
        remaining = self._remaining()
        if self._followup is None and remaining > timedelta(0):
            await self._wait_for(
                lambda: self._followup is not None or self._resolved_by_itself(), remaining
            )
        followup, self._followup = self._followup, None
        if followup is None and self._resolved_by_itself():
            return self._resolution(self._resolved_by_itself_note("while it waited for a person"))
        if isinstance(followup, RetryRequest):
            self._reset_for_retry()
            return self._next(
                IncidentState.ANALYZING,
                f"retry requested: {followup.note or 'analysing again'}",
                by=followup.by,
            )
        if isinstance(followup, ManualResolution):
            return self._resolution(
                f"resolved by hand: {followup.note or 'no note'}", by=followup.by
            )
        if self._history_is_long():
            return None
        self._done = True
        await self._record(
            IncidentState.ESCALATED,
            f"closed unattended: nobody acted within "
            f"{_human(self._policy_or_default.escalation_timeout)}; "
            "a new alert opens a new incident",
        )
        return None

    # --- transitions -----------------------------------------------------------------------

    def _next(self, state: IncidentState, note: str, by: str | None = None) -> IncidentState:
        self._pending_note, self._pending_by = note, by
        return state

    def _escalation(self, reason: str) -> IncidentState:
        self._status.escalation_reason = reason
        self._start_deadline(self._policy_or_default.escalation_timeout)
        return self._next(IncidentState.ESCALATED, reason)

    def _resolution(self, note: str, by: str | None = None) -> IncidentState:
        self._status.resolution = note
        self._status.deadline = None
        return self._next(IncidentState.RESOLVED, note, by)

    async def _enter(self, state: IncidentState, note: str) -> None:
        by, self._pending_by = self._pending_by, None
        if state not in HUMAN_WAIT_STATES:
            self._status.deadline = None
        self._status.state = state
        self._append_timeline(state, note, by)
        search.publish(self._status)
        await self._mirror(state, note)

    async def _record(self, state: IncidentState, note: str, by: str | None = None) -> None:
        """Add a timeline entry without changing state, and mirror it to the ticket."""
        self._append_timeline(state, note, by)
        search.publish(self._status)
        await self._mirror(state, note)

    def _append_timeline(self, state: IncidentState, note: str, by: str | None) -> None:
        self._status.timeline.append(
            TimelineEntry(at=workflow.now(), state=state, note=note, by=by)
        )
        _audit("incident timeline", self._status, state=state.value, note=note, by=by)

    async def _mirror(self, state: IncidentState, note: str) -> None:
        """Mirror a transition to the ticket and chat; their failure never stops the incident."""
        policy = self._policy_or_default
        if self._ticket_outstanding():
            await self._open_ticket()  # JIRA was down when the incident opened: try again
        if self._status.ticket_key and policy.ticketing:
            try:
                await call(
                    UPDATE_TICKET,
                    TicketUpdate(
                        incident_id=self._status.id,
                        key=self._status.ticket_key,
                        state=state,
                        comment=note,
                        alerts=self._alerts_summary(),
                    ),
                )
            except ActivityError as err:
                self._append_timeline(state, f"ticket not updated: {_reason(err)}", None)
        if policy.notifications and state in {
            IncidentState.AWAITING_REVIEW,
            IncidentState.AWAITING_APPROVAL,
            IncidentState.ESCALATED,
            IncidentState.RESOLVED,
        }:
            try:
                await call(
                    NOTIFY, Notification(incident_id=self._status.id, state=state, text=note)
                )
            except ActivityError as err:
                self._append_timeline(state, f"notification not sent: {_reason(err)}", None)

    # --- actions ---------------------------------------------------------------------------

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
            self._append_timeline(
                IncidentState.ANALYZING,
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
        """Which workload's context to read: the one the first alert names."""
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

    def _ticket_request(self) -> TicketRequest:
        alert, previous = self._first_alert, self._previous
        description = alert.summary
        if previous is not None:
            earlier = f" ({previous.ticket_key})" if previous.ticket_key else ""
            description += f"\n\nThis is a recurrence: {self._recurrence(previous)}{earlier}."
        return TicketRequest(
            incident_id=self._status.id,
            summary=f"[selfheal] {alert.workload or 'unmapped'}: {alert.name}",
            description=description,
            existing_key=alert.ticket_key,
            labels=["selfheal", self._status.id],
        )

    def _ticket_outstanding(self) -> bool:
        """True when ticketing is on and an outage (not a refusal) kept the ticket away."""
        policy = self._policy_or_default
        return policy.ticketing and self._status.ticket_key is None and self._ticket_failed

    async def _hand_ticket_over(self) -> None:
        """The incident has ended without its ticket: a workflow of its own opens it later."""
        catch_up = await workflow.start_child_workflow(
            TicketCatchUpWorkflow.run,
            TicketCatchUp(
                ticket=self._ticket_request(),
                state=self._status.state,
                story=_story(self._status),
            ),
            id=f"{self._status.id}-ticket-{workflow.info().run_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._append_timeline(
            self._status.state,
            f"no ticket yet: JIRA did not answer while the incident ran; {catch_up.id} opens "
            "it once JIRA is back and writes this timeline there",
            None,
        )

    async def _open_ticket(self) -> None:
        try:
            ticket = await call(OPEN_TICKET, self._ticket_request())
        except ActivityError as err:
            # An outage may be over by the next transition; a refusal (permissions, a bad
            # project) will not be, and asking again at every transition only repeats it.
            self._ticket_failed = not (_permanent(err) and workflow.patched(TICKET_REFUSAL))
            retry = "; trying again at the next transition" if self._ticket_failed else ""
            self._append_timeline(self._status.state, f"no ticket: {_reason(err)}{retry}", None)
            return
        self._ticket_failed = False
        self._status.ticket_key, self._status.ticket_url = ticket.key, ticket.url
        note = f"ticket {ticket.key}" if ticket.key else f"no ticket: {ticket.note}"
        self._append_timeline(self._status.state, note, None)
        search.publish(self._status)

    async def _apply(self, fix: FixProposal) -> IncidentState:
        assert fix.action is not None
        refusal = await self._permit(f"apply {fix.kind.value}")
        if refusal:
            return self._escalation(refusal)
        try:
            result = await call(
                APPLY_REMEDIATION,
                RemediationRequest(
                    incident_id=self._status.id, action=fix.action, cluster=self._status.cluster
                ),
            )
        except ActivityError as err:
            return self._escalation(f"could not apply {fix.kind.value}: {_reason(err)}")
        self._status.actions_taken += 1
        if self._status.previous_revision is None:
            self._status.previous_revision = result.previous_revision
        return self._next(
            IncidentState.DEPLOYING, f"applied {fix.kind.value}: {result.description}"
        )

    async def _merge(self, approved_by: str) -> IncidentState:
        assert self._status.pr_number is not None
        refusal = await self._permit(f"merge pull request #{self._status.pr_number}")
        if refusal:
            return self._escalation(refusal)
        try:
            await call(
                MERGE_PULL_REQUEST,
                MergeRequest(
                    incident_id=self._status.id,
                    number=self._status.pr_number,
                    approved_by=approved_by,
                ),
            )
        except ActivityError as err:
            return self._escalation(f"could not merge the pull request: {_reason(err)}")
        self._status.actions_taken += 1
        return self._next(
            IncidentState.DEPLOYING,
            f"approved by {approved_by}; merged pull request #{self._status.pr_number}",
            by=approved_by,
        )

    async def _poll_pull_request(self) -> None:
        """The fallback for a lost webhook: read the pull request and act as its event would."""
        assert self._status.pr_number is not None
        try:
            pr = await call(
                GET_PULL_REQUEST,
                PullRequestRef(incident_id=self._status.id, number=self._status.pr_number),
            )
        except ActivityError:
            return  # polling is a fallback; the next poll or the webhook will tell
        if pr.merged:
            self.pr_event(PullRequestEvent(action=PullRequestAction.MERGED, number=pr.number))
        elif not pr.open:
            self.pr_event(PullRequestEvent(action=PullRequestAction.CLOSED, number=pr.number))
        elif pr.changes_requested_by:
            self.pr_event(
                PullRequestEvent(
                    action=PullRequestAction.CHANGES_REQUESTED,
                    number=pr.number,
                    by=pr.changes_requested_by[0],
                )
            )
        for reviewer in pr.approved_by:
            if self._decision is None and reviewer != pr.author:
                self.pr_event(
                    PullRequestEvent(
                        action=PullRequestAction.APPROVED, number=pr.number, by=reviewer
                    )
                )

    async def _close_pull_request_and_escalate(self, reason: str) -> IncidentState:
        return self._escalation(await self._close_pull_request(reason))

    async def _close_pull_request(self, reason: str) -> str:
        """Close the fix's pull request unmerged, saying why; return the reason, with the
        failure appended if it stayed open."""
        if self._status.pr_number is not None:
            try:
                await call(
                    CLOSE_PULL_REQUEST,
                    ClosePullRequest(
                        incident_id=self._status.id, number=self._status.pr_number, reason=reason
                    ),
                )
            except ActivityError as err:
                reason = f"{reason} (pull request left open: {_reason(err)})"
        return reason

    async def _undo_and_escalate(self, reason: str) -> IncidentState:
        """Put the workload back as it was before selfheal changed it, then escalate."""
        policy, alert = self._policy_or_default, self._first_alert
        assert alert.namespace and alert.workload
        undo = "rollback" if policy.mode == RemediationMode.DIRECT else "revert pull request"
        refusal = await self._permit(undo, counts=False)
        if refusal:
            return self._escalation(f"{reason}; {undo} not done: {refusal}")
        try:
            if policy.mode == RemediationMode.DIRECT and self._status.previous_revision:
                result = await call(
                    APPLY_REMEDIATION,
                    RemediationRequest(
                        incident_id=self._status.id,
                        cluster=self._status.cluster,
                        action=RemediationAction(
                            kind=ActionKind.ROLLBACK,
                            namespace=alert.namespace,
                            deployment=alert.workload,
                            revision=self._status.previous_revision,
                        ),
                    ),
                )
                self._status.actions_taken += 1
                reason = f"{reason}; rolled back: {result.description}"
            elif policy.mode == RemediationMode.GITOPS and self._status.pr_number is not None:
                revert = await call(
                    OPEN_REVERT_PULL_REQUEST,
                    RevertRequest(
                        incident_id=self._status.id, number=self._status.pr_number, reason=reason
                    ),
                )
                reason = f"{reason}; opened revert pull request #{revert.number}: {revert.url}"
        except ActivityError as err:
            reason = f"{reason}; undo failed, the workload may still carry the fix: {_reason(err)}"
        return self._escalation(reason)

    # --- guardrails --------------------------------------------------------------------------

    def _guardrail_refusal(self, fix: FixProposal) -> str | None:
        """Why this fix may not be applied here at all, or None."""
        policy, namespace = self._policy_or_default, self._status.namespace
        if namespace in PROTECTED_NAMESPACES:
            return f"namespace {namespace} is never changed by selfheal"
        if namespace not in policy.namespaces:
            allowed = ", ".join(policy.namespaces) or "none"
            return (
                f"namespace {namespace} is not in SELFHEAL_NAMESPACES (allowed: {allowed}); "
                f"proposed {fix.kind.value} was not applied"
            )
        # A gitops pull request that a person must review is that person's decision; a
        # destructive change that would reach the cluster with nobody deciding is refused.
        reviewed = (
            policy.mode == RemediationMode.GITOPS
            and bool(fix.manifest_patch)
            and not self._auto_approves(fix)
        )
        action = fix.action
        if action and action.destructive and not reviewed and not policy.allow_destructive:
            return (
                f"{action.kind.value} is destructive and SELFHEAL_ALLOW_DESTRUCTIVE is off; "
                f"a person must decide: {fix.rationale}"
            )
        return None

    async def _permit(self, action: str, counts: bool = True) -> str | None:
        """Ask the guard before a change: None to go ahead, or why not. Waits while frozen."""
        policy, status = self._policy_or_default, self._status
        if counts and status.actions_taken >= policy.max_actions:
            return (
                f"action limit reached: {status.actions_taken} of {policy.max_actions} "
                "actions per incident (SELFHEAL_MAX_ACTIONS)"
            )
        request = PermitRequest(
            incident_id=status.id,
            workload=f"{status.cluster}/{status.namespace}/{status.service}",
            target=self._first_alert.target,
            action=action,
            key=f"{status.id}/{status.attempt}/{status.actions_taken}/{action}",
            counts=counts,
            limit=policy.remediation_limit,
            window=policy.remediation_window,
        )
        waiting = False
        while True:
            try:
                permit = await call(REQUEST_PERMIT, request)
            except ActivityError as err:
                return f"the guard could not be asked: {_reason(err)}"
            if permit.granted:
                if waiting:
                    self._append_timeline(status.state, f"unfrozen; going ahead to {action}", None)
                return None
            if permit.refusal:
                return permit.refusal
            if not waiting:
                self._freeze, waiting = permit.freeze, True
                freeze = permit.freeze
                self._append_timeline(
                    status.state,
                    f"remediation frozen by {freeze.by} ({freeze.reason or 'no reason'}); "
                    f"waiting to {action}",
                    None,
                )
                search.publish(status, frozen=True)
            self._guard_changed = False
            await self._wait_for(lambda: self._guard_changed, _FROZEN_RECHECK)

    # --- approval policy -------------------------------------------------------------------

    def _auto_approves(self, fix: FixProposal) -> bool:
        policy = self._policy_or_default.auto_approve
        return policy == AutoApprovePolicy.ALWAYS or (
            policy == AutoApprovePolicy.LOW_RISK and fix.risk == RiskLevel.LOW
        )

    def _approval_rule(self) -> str:
        policy = self._policy_or_default
        return policy.auto_approve_rule or f"SELFHEAL_AUTO_APPROVE={policy.auto_approve.value}"

    def _record_auto_approval(self, fix: FixProposal) -> None:
        reason = f"{self._approval_rule()} allows risk {fix.risk.value}"
        self._status.approvals.append(
            ApprovalRecord(
                at=workflow.now(), by="selfheal", decision="approve", comment=reason, accepted=True
            )
        )
        self._append_timeline(self._status.state, f"approved without a person: {reason}", None)

    # --- signals, updates, query -----------------------------------------------------------

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
        refusal = self._approval_refusal(approval.by)
        self._record_decision(approval.by, "approve", approval.comment, refusal)
        if refusal is None:
            self._decision = _Decision(True, approval.by, approval.comment)

    @workflow.signal
    def reject(self, rejection: Rejection) -> None:
        """Reject the proposed fix; the incident escalates."""
        refusal = self._approval_refusal(rejection.by)
        self._record_decision(rejection.by, "reject", rejection.reason, refusal)
        if refusal is None:
            self._decision = _Decision(False, rejection.by, rejection.reason)

    @workflow.update(name="approve")
    def approve_now(self, approval: Approval) -> SignalAck:
        """Approve and answer at once; refused approvals are rejected by the validator."""
        self.approve(approval)
        return SignalAck(incident_id=self._status.id, state=self._status.state, note="approved")

    @approve_now.validator
    def _validate_approve(self, approval: Approval) -> None:
        self._raise_if_refused(approval.by)

    @workflow.update(name="reject")
    def reject_now(self, rejection: Rejection) -> SignalAck:
        """Reject and answer at once; refused rejections are rejected by the validator."""
        self.reject(rejection)
        return SignalAck(incident_id=self._status.id, state=self._status.state, note="rejected")

    @reject_now.validator
    def _validate_reject(self, rejection: Rejection) -> None:
        self._raise_if_refused(rejection.by)

    @workflow.signal
    def retry(self, request: RetryRequest) -> None:
        """Send an ESCALATED incident back to analysis."""
        if self._status.state == IncidentState.ESCALATED:
            self._followup = request

    @workflow.signal
    def resolve(self, request: ManualResolution) -> None:
        """Close an ESCALATED incident as resolved by a person."""
        if self._status.state == IncidentState.ESCALATED:
            self._followup = request

    @workflow.update(name="retry")
    def retry_now(self, request: RetryRequest) -> SignalAck:
        """Retry and answer at once; refused unless ESCALATED."""
        self.retry(request)
        return SignalAck(incident_id=self._status.id, state=self._status.state, note="retrying")

    @retry_now.validator
    def _validate_retry(self, request: RetryRequest) -> None:
        self._raise_unless_escalated()

    @workflow.update(name="resolve")
    def resolve_now(self, request: ManualResolution) -> SignalAck:
        """Resolve by hand and answer at once; refused unless ESCALATED."""
        self.resolve(request)
        return SignalAck(incident_id=self._status.id, state=self._status.state, note="resolving")

    @resolve_now.validator
    def _validate_resolve(self, request: ManualResolution) -> None:
        self._raise_unless_escalated()

    @workflow.signal
    def pr_event(self, event: PullRequestEvent) -> None:
        """Act on a review, merge or close of the incident's pull request."""
        if self._status.state != IncidentState.AWAITING_REVIEW or self._decision is not None:
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
        if notice.freeze.frozen == self._freeze.frozen:
            return
        self._freeze, self._guard_changed = notice.freeze, True
        if notice.freeze.frozen:
            note = (
                f"remediation frozen by {notice.freeze.by}: {notice.freeze.reason or 'no reason'}"
            )
        else:
            note = f"remediation unfrozen by {notice.freeze.by}"
        self._append_timeline(self._status.state, note, notice.freeze.by)
        search.publish(self._status, frozen=notice.freeze.frozen)

    @workflow.query
    def status(self) -> IncidentStatus:
        """Everything about the incident: state, diagnosis, fix, PR, ticket, timeline."""
        return self._status

    # --- alerts ----------------------------------------------------------------------------

    def _take_alerts(self, alerts: list[Alert], count: int) -> None:
        """Count `count` alerts; note each new name; follow each distinct alert's state.

        Incidents of the older scheme only ever got alerts of one name, and their firing
        state was the last alert's; they keep it that way.
        """
        status = self._status
        status.alert_count += count
        for alert in alerts:
            if status.first_alert is None:
                self._describe(alert)
            if status.workload_id is None:
                status.alert_firing = alert.status == AlertStatus.FIRING
                continue
            if alert.name not in status.alert_names and len(status.alert_names) < (
                ALERT_NAMES_KEPT
            ):
                status.alert_names.append(alert.name)
                if len(status.alert_names) > 1 and status.timeline:
                    self._append_timeline(
                        status.state,
                        f"{alert.name} joined ({alert.source.value}): "
                        f"{alert.summary or 'no summary'}",
                        None,
                    )
            firing = alert.status == AlertStatus.FIRING
            track = status.alerts.get(alert.key)
            if track is not None:
                track.firing, track.count = firing, track.count + 1
            elif len(status.alerts) < ALERTS_TRACKED:
                status.alerts[alert.key] = AlertTrack(
                    name=alert.name, source=alert.source, firing=firing
                )
            status.alert_firing = any(track.firing for track in status.alerts.values())

    def _describe(self, alert: Alert) -> None:
        """The first alert describes the incident: what paged, about which workload, where."""
        status = self._status
        status.first_alert = alert
        status.service = alert.workload or ""
        status.namespace = alert.namespace or ""
        status.cluster = alert.cluster or ""
        status.severity = alert.severity
        status.reason = alert.reason or alert.name
        status.alert_name = alert.name
        status.summary = alert.summary

    def _resolved_by_itself(self) -> bool:
        """True when every alert has resolved and selfheal has changed nothing."""
        status = self._status
        return self._honest and not status.alert_firing and status.actions_taken == 0

    def _resolved_by_itself_note(self, when: str) -> str:
        status = self._status
        note = (
            f"the alert resolved by itself {when}: {self._alerts_summary()} "
            "no longer firing; selfheal changed nothing"
        )
        if status.pr_number is not None:
            note += f"; pull request #{status.pr_number} closed unmerged"
        return note

    def _unexplained(self, diagnosis: Diagnosis) -> str:
        """Why an alert that still fires about a workload that looks healthy needs a person."""
        status = self._status
        names = ", ".join(status.alert_names) or status.alert_name
        advice = diagnosis.recommendation or "look at what pod state cannot show"
        return (
            f"the cluster does not show why {names} fires for {status.namespace}/"
            f"{status.service}: {diagnosis.summary}. {advice} selfheal changed nothing; "
            "the incident closes by itself when the alert resolves"
        )

    def _alerts_summary(self) -> str:
        status = self._status
        names = ", ".join(status.alert_names) or status.alert_name
        return f"{status.alert_count} alert(s) ({names})"

    def _recurrence(self, previous: IncidentEnding) -> str:
        minutes = int((workflow.now() - previous.ended_at).total_seconds() // 60)
        ended = "was resolved" if previous.state == IncidentState.RESOLVED else "ended"
        return f"recurred {minutes} min after {previous.incident_id} {ended}"

    # --- small pieces ----------------------------------------------------------------------

    @property
    def _first_alert(self) -> Alert:
        assert self._status.first_alert is not None
        return self._status.first_alert

    @property
    def _policy_or_default(self) -> IncidentPolicy:
        return self._policy or IncidentPolicy()

    def _approval_refusal(self, by: str) -> str | None:
        state = self._status.state
        if state not in (IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL):
            return f"not awaiting approval (state {state.value})"
        if self._decision is not None:
            return "a decision was already made"
        if not self._policy_or_default.may_approve(by):
            return f"{by} is not an approver (SELFHEAL_APPROVERS)"
        return None

    def _raise_if_refused(self, by: str) -> None:
        refusal = self._approval_refusal(by)
        if refusal is not None:
            raise ApplicationError(refusal, type="DecisionRefused", non_retryable=True)

    def _raise_unless_escalated(self) -> None:
        if self._status.state != IncidentState.ESCALATED:
            raise ApplicationError(
                f"not escalated (state {self._status.state.value})",
                type="DecisionRefused",
                non_retryable=True,
            )

    def _record_decision(self, by: str, decision: str, comment: str, refusal: str | None) -> None:
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


def _root_cause(err: ActivityError) -> BaseException | None:
    """The failure under the activity (and child workflow) wrappers."""
    cause: BaseException | None = err.cause
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    return cause


def _reason(err: ActivityError) -> str:
    """The sentence a person can act on, from an activity's final failure."""
    cause = _root_cause(err)
    if isinstance(cause, ApplicationError):
        return f"{cause.message} [{cause.type}]" if cause.type else cause.message
    return str(cause or err)


def _permanent(err: ActivityError) -> bool:
    """True when the activity's final failure says retrying will not help (docs/reliability.md)."""
    cause = _root_cause(err)
    return isinstance(cause, ApplicationError) and cause.non_retryable


def _story(status: IncidentStatus) -> str:
    """The timeline as plain lines, for a ticket that missed it."""
    return "\n".join(
        f"{entry.at:%Y-%m-%d %H:%M:%S} UTC {entry.state.value}: {entry.note}"
        + (f" (by {entry.by})" if entry.by else "")
        for entry in status.timeline
    )


def _human(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
