"""The analysis activities: diagnose with the rules, propose a fix, or both in one step."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from selfheal.contracts.kubernetes import ClusterContext, ContextRequest
from selfheal.contracts.spec import ActivityCall
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import Diagnosis, FixProposal


class DiagnosisRequest(BaseModel):
    incident_id: str
    alert: Alert
    context: ClusterContext


class FixRequest(BaseModel):
    incident_id: str
    diagnosis: Diagnosis
    context: ClusterContext


class AnalysisRequest(BaseModel):
    """Analyse a workload offline in one step: gather its context, diagnose, propose a fix."""

    alert: Alert
    workload: ContextRequest = Field(description="Whose context to gather")

    @property
    def incident_id(self) -> str:
        return self.workload.incident_id


class WorkloadAnalysis(BaseModel):
    """The offline analysis's answer: all the workflow needs, without the cluster context.

    `fix` is the safe proposal for a fault; `no_fix` says why there is none when the fix
    generator refused (a fault with nothing safe to change still gets a `none` proposal).
    """

    diagnosis: Diagnosis
    fix: FixProposal | None = None
    no_fix: str | None = None
    manifest_path: str | None = Field(
        default=None, description="The Deployment's selfheal.dev/manifest annotation, if set"
    )


DIAGNOSE = ActivityCall("diagnose", Diagnosis, timedelta(minutes=5))


ANALYZE_WORKLOAD = ActivityCall("analyze_workload", WorkloadAnalysis, timedelta(minutes=2))
"""The rules path: gather, diagnose and propose in one activity (activities/remedy.py)."""


PROPOSE_FIX = ActivityCall("propose_fix", FixProposal, timedelta(seconds=30))
