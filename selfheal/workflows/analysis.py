"""Reading the workload and deciding what is wrong with it: the incident's analyst.

A collaborator of IncidentWorkflow (workflow code: it calls activities and a child). On the
rules path one activity gathers, diagnoses and proposes where the context is read, so the
context never enters the workflow (activities/remedy.py); with a model, the context
is gathered into the workflow for the child InvestigationWorkflow, and the rules stand in
when the model gives no diagnosis (unless the policy forbids them).
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from selfheal.contracts.analysis import (
        ANALYZE_WORKLOAD,
        DIAGNOSE,
        PROPOSE_FIX,
        AnalysisRequest,
        DiagnosisRequest,
        FixRequest,
        WorkloadAnalysis,
    )
    from selfheal.contracts.claude import InvestigationRequest, InvestigationResult
    from selfheal.contracts.kubernetes import GATHER_CONTEXT, ClusterContext, ContextRequest
    from selfheal.contracts.prometheus import GATHER_METRICS, MetricsRequest, WorkloadMetrics
    from selfheal.model.alerts import DEFAULT_KIND, Alert
    from selfheal.model.diagnosis import Diagnosis, FixProposal
    from selfheal.model.incident import IncidentState, IncidentStatus
    from selfheal.model.policy import AnalyzerChoice, IncidentPolicy
    from selfheal.workflows.activity_calls import call
    from selfheal.workflows.judgement import reason
    from selfheal.workflows.patches import KIND_FROM_ALERT, METRICS_EVIDENCE, ONE_STEP_ANALYSIS
    from selfheal.workflows.ticket_mirror import Note


class ModelFailed(Exception):
    """The model investigation gave no diagnosis and the policy forbids the rules."""


class Analyst:
    """Diagnoses the incident's workload, and proposes the fix for the diagnosis."""

    def __init__(
        self,
        status: IncidentStatus,
        policy: Callable[[], IncidentPolicy],
        alert: Callable[[], Alert],
        note: Note,
    ) -> None:
        self._status = status
        self._policy = policy
        self._alert = alert
        self._note = note
        # Per attempt, until the fix is proposed; read again after continue-as-new.
        self._context: ClusterContext | None = None
        self._analysis: WorkloadAnalysis | None = None
        self.manifest_path: str | None = None

    async def diagnose(self) -> Diagnosis:
        """Diagnose the alert's workload: the rules in one step, or a model over its context.

        The fix the rules made alongside waits for `proposal()`.
        """
        if self._policy().analyzer == AnalyzerChoice.RULES and workflow.patched(ONE_STEP_ANALYSIS):
            self._analysis = await call(
                ANALYZE_WORKLOAD, AnalysisRequest(alert=self._alert(), workload=self._request())
            )
            self.manifest_path = self._analysis.manifest_path
            return self._analysis.diagnosis
        return await self._diagnose(await self._gather())

    def proposal(self) -> WorkloadAnalysis | None:
        """What the one-step analysis proposed (once), or None when it did not run."""
        analysis, self._analysis = self._analysis, None
        return analysis

    async def propose_fix(self) -> FixProposal:
        """The fix for the current diagnosis, from the context (gathered again if not held)."""
        assert self._status.diagnosis is not None
        return await call(
            PROPOSE_FIX,
            FixRequest(
                incident_id=self._status.id,
                diagnosis=self._status.diagnosis,
                context=self._context or await self._gather(),
            ),
        )

    def drop_context(self) -> None:
        """Nothing after the proposal reads the cluster snapshot; a thousand waiting incidents
        need not each hold theirs in the worker's memory."""
        self._context = None

    def forget(self) -> None:
        """Start the next attempt from the cluster as it is then."""
        self._context = self._analysis = self.manifest_path = None

    async def _diagnose(self, context: ClusterContext) -> Diagnosis:
        """The model's diagnosis when the policy asks for one, else (or if it fails) the rules'."""
        policy, status = self._policy(), self._status
        if policy.analyzer != AnalyzerChoice.RULES:
            result = await workflow.execute_child_workflow(
                "InvestigationWorkflow",
                InvestigationRequest(
                    incident_id=status.id,
                    alert=self._alert(),
                    context=context,
                    model=policy.model,
                    max_turns=policy.max_model_turns,
                    max_tokens=policy.max_model_tokens,
                ),
                id=f"{status.id}-investigation-{status.attempt}",
                result_type=InvestigationResult,
            )
            status.usage = status.usage.add(result.usage)
            if result.diagnosis is not None:
                return result.diagnosis
            if policy.analyzer == AnalyzerChoice.MODEL_ONLY:
                raise ModelFailed(result.failure)
            self._note(
                IncidentState.ANALYZING,
                f"model investigation failed ({result.failure}); diagnosing with the offline rules",
                None,
            )
        return await call(
            DIAGNOSE, DiagnosisRequest(incident_id=status.id, alert=self._alert(), context=context)
        )

    def _request(self) -> ContextRequest:
        """Which workload's context to read: the one the first alert names, where it runs."""
        alert = self._alert()
        assert alert.namespace and alert.workload
        return ContextRequest(
            incident_id=self._status.id,
            cluster=alert.cluster or "",
            namespace=alert.namespace,
            workload=alert.workload,
            kind=alert.kind if workflow.patched(KIND_FROM_ALERT) else DEFAULT_KIND,
        )

    async def _gather(self) -> ClusterContext:
        context = await call(GATHER_CONTEXT, self._request())
        if self._policy().metrics and workflow.patched(METRICS_EVIDENCE):
            context.metrics = await self._metrics(context)
        self._context = context
        self.manifest_path = context.manifest_path()
        return context

    async def _metrics(self, context: ClusterContext) -> WorkloadMetrics:
        """The workload's metrics for the context; evidence, so a failure is only noted."""
        request = MetricsRequest(
            incident_id=self._status.id,
            cluster=context.cluster,
            namespace=context.namespace,
            workload=context.workload,
            kind=context.kind,
            pods=[name for pod in context.pods if (name := pod.get("metadata", {}).get("name"))],
        )
        try:
            return await call(GATHER_METRICS, request)
        except ActivityError as err:
            self._note(
                IncidentState.ANALYZING,
                f"metrics not read ({reason(err)}); analysing without them",
                None,
            )
            return WorkloadMetrics(note=f"not read: {reason(err)}")
