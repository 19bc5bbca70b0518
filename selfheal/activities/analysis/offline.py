"""The offline analysis in one activity: gather the context, diagnose with the rules, propose.

On the rules path nothing the workflow decides needs the cluster context itself, only the
diagnosis and the fix made from it. Doing all three steps where the context is gathered keeps
it (tens to hundreds of KB per incident) out of the workflow's history and the worker's
workflow cache; a thousand concurrent analyses then cost what their answers cost. The model
path still gathers the context into the workflow, because its child investigation reads it.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from selfheal.activities.analysis.engine import diagnose_context
from selfheal.activities.fixes import safe_fix
from selfheal.domain import (
    AnalysisRequest,
    ClusterContext,
    ContextRequest,
    FixLimits,
    WorkloadAnalysis,
)

ContextSource = Callable[[ContextRequest], ClusterContext]
"""Reads a workload's context: the Kubernetes activity's `gather_context`, or a snapshot."""


class OfflineAnalysisActivities:
    """`analyze_workload`, built once in the worker around the context source it reads."""

    def __init__(self, gather: ContextSource, limits: FixLimits) -> None:
        self._gather = gather
        self._limits = limits

    @activity.defn(name="analyze_workload")
    def analyze_workload(self, request: AnalysisRequest) -> WorkloadAnalysis:
        """Return the rules' diagnosis of the workload and the safe fix for it, if any.

        Read-only, so a retry simply reads the cluster again. A fix the generator refuses is
        an answer (`no_fix`), not a failure: the diagnosis stands and the incident escalates
        with the refusal as its reason.
        """
        context = self._gather(request.workload)
        diagnosis = diagnose_context(request.alert, context)
        analysis = WorkloadAnalysis(diagnosis=diagnosis, manifest_path=context.manifest_path())
        if not diagnosis.fault_found:
            return analysis
        try:
            analysis.fix = safe_fix(diagnosis, context, self._limits)
        except ApplicationError as refusal:
            analysis.no_fix = f"{refusal.message} [{refusal.type or 'refused'}]"
        return analysis
