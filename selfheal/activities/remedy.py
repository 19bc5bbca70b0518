"""From a diagnosis to a checked fix, above both the rules and the fixes.

The analysis names the failure and hands on what its fix needs (the diagnosis' hint); the fix
kind's module builds the proposal; the allow-list refuses anything unsafe, whole; the risk is
judged by what the proposal really changes. Two activities compose them:

- `analyze_workload` (the rules path) gathers the context, diagnoses and proposes in one
  step, so the context (tens to hundreds of KB) never crosses the workflow, its history or
  the worker's cache; a thousand concurrent analyses cost what their answers cost;
- `propose_fix` (the model path) proposes for a diagnosis made elsewhere: a model's own
  proposal is held to the same allow-list as the rules'.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio.exceptions import ApplicationError

from selfheal.activities.analysis.engine import diagnose_context
from selfheal.activities.analysis.hints import hint_for
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.allow_list import validate_proposal
from selfheal.activities.fixes.registry import propose_fix
from selfheal.activities.fixes.risk import assessed_risk
from selfheal.contracts.analysis import (
    ANALYZE_WORKLOAD,
    PROPOSE_FIX,
    AnalysisRequest,
    FixRequest,
    WorkloadAnalysis,
)
from selfheal.contracts.kubernetes import ClusterContext, ContextRequest
from selfheal.contracts.prometheus import MetricsRequest, WorkloadMetrics
from selfheal.contracts.spec import implements
from selfheal.model.diagnosis import (
    Diagnosis,
    DiagnosisCategory,
    FixKind,
    FixLimits,
    FixProposal,
)

HINTED = frozenset({FixKind.RELAX_PROBE, FixKind.SCALE_UP, FixKind.INCREASE_MEMORY})
"""Fix kinds that build on the analysis' hint (a model's diagnosis comes without one)."""

ContextSource = Callable[[ContextRequest], ClusterContext]
"""Reads a workload's context: the Kubernetes activity's `gather_context`, or a snapshot."""

MetricsSource = Callable[[MetricsRequest], WorkloadMetrics | None]
"""Reads a workload's metrics (`MetricsActivities.read`): None when there is no Prometheus."""


def safe_fix(diagnosis: Diagnosis, context: ClusterContext, limits: FixLimits) -> FixProposal:
    """The diagnosis's fix (the model's own, else the fix kind's), checked and with its risk
    assessed. Raises a non-retryable `UnsafeProposal` ApplicationError when any part is
    refused."""
    if (
        diagnosis.hint is None
        and diagnosis.suggested_fix in HINTED
        and context.workload_object() is not None
    ):
        diagnosis = diagnosis.model_copy(update={"hint": hint_for(WorkloadView(context))})
    proposal = diagnosis.proposed_fix or propose_fix(diagnosis, context, limits)
    check_proposal(proposal, context, limits, diagnosis.category)
    return proposal.model_copy(update={"risk": assessed_risk(proposal)})


def check_proposal(
    proposal: FixProposal,
    context: ClusterContext,
    limits: FixLimits,
    category: DiagnosisCategory | None = None,
) -> None:
    """Raise a non-retryable `UnsafeProposal` ApplicationError naming every refused field."""
    reasons = validate_proposal(proposal, context, limits, category)
    if reasons:
        raise ApplicationError(
            f"fix proposal refused for {context.namespace}/{context.workload}: "
            + "; ".join(reasons),
            type="UnsafeProposal",
            non_retryable=True,
        )


class FixActivities:
    """Fix generation as an activity; pure computation, so it needs no client."""

    def __init__(self, limits: FixLimits | None = None) -> None:
        self.limits = limits or FixLimits()

    @implements(PROPOSE_FIX)
    async def propose_fix(self, request: FixRequest) -> FixProposal:
        """Return the fix for the request's diagnosis; refuse (non-retryable) an unsafe one.

        A model's own proposal is held to the same allow-list as the rules' and is refused
        whole, never trimmed, when any part of it is outside it.
        """
        return safe_fix(request.diagnosis, request.context, self.limits)


class OfflineAnalysisActivities:
    """`analyze_workload`, built once in the worker around the context source it reads."""

    def __init__(
        self, gather: ContextSource, limits: FixLimits, metrics: MetricsSource | None = None
    ) -> None:
        self._gather = gather
        self._limits = limits
        self._metrics = metrics

    @implements(ANALYZE_WORKLOAD)
    def analyze_workload(self, request: AnalysisRequest) -> WorkloadAnalysis:
        """Return the rules' diagnosis of the workload and the safe fix for it, if any.

        With Prometheus, the context carries the workload's metrics (a failure to read them is
        their `note`: the rules go on without). Read-only, so a retry simply reads the cluster
        again. A fix the generator refuses is
        an answer (`no_fix`), not a failure: the diagnosis stands and the incident escalates
        with the refusal as its reason.
        """
        # The workflow builds its request from the alert's namespace and name alone; the
        # alert itself says which kind the workload is, so the workflow need not change.
        context = self._gather(request.workload.model_copy(update={"kind": request.alert.kind}))
        if self._metrics is not None and context.workload_object() is not None:
            context.metrics = self._metrics(
                MetricsRequest(
                    incident_id=request.incident_id,
                    cluster=context.cluster,
                    namespace=context.namespace,
                    workload=context.workload,
                    kind=context.kind,
                    pods=[name for pod in context.pods if (name := pod["metadata"].get("name"))],
                )
            )
        diagnosis = diagnose_context(request.alert, context)
        analysis = WorkloadAnalysis(diagnosis=diagnosis, manifest_path=context.manifest_path())
        if not diagnosis.fault_found:
            return analysis
        try:
            analysis.fix = safe_fix(diagnosis, context, self._limits)
        except ApplicationError as refusal:
            analysis.no_fix = f"{refusal.message} [{refusal.type or 'refused'}]"
        return analysis
