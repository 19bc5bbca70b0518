"""The investigation's answer: the `submit_diagnosis` tool's schema and its mapping to Diagnosis.

The tool's input_schema is generated from `SubmittedDiagnosis`, and the model's input is
validated by the same model, so the schema the model sees and the check it must pass are
one definition. A fix the model proposes is carried unchecked into `Diagnosis.proposed_fix`;
fix generation validates it against the allow-list (and refuses what falls outside).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfheal.activities.fixes.risk import RISK
from selfheal.contracts.claude import SUBMIT_TOOL
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import (
    ActionKind,
    Diagnosis,
    DiagnosisCategory,
    Evidence,
    FixKind,
    FixProposal,
    RemediationAction,
)


class SubmittedEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        min_length=1,
        max_length=300,
        description="Where it was read, e.g. pod/web-1 status.containerStatuses[app].lastState",
    )
    detail: str = Field(
        min_length=1, max_length=1000, description="The exact field value, event or log line"
    )


class SubmittedAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    namespace: str | None = Field(default=None, description="Defaults to the incident's")
    deployment: str | None = Field(default=None, description="Defaults to the incident's")
    patch: dict[str, Any] = Field(
        default_factory=dict, description="Strategic-merge patch of the Deployment (kind=patch)"
    )
    replicas: int | None = Field(default=None, ge=0, description="Target replicas (kind=scale)")
    revision: int | None = Field(default=None, ge=1, description="Rollout revision (kind=rollback)")


class SubmittedFix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FixKind
    rationale: str = Field(min_length=1, max_length=1000)
    manifest_patch: dict[str, Any] = Field(
        default_factory=dict,
        description="Strategic-merge patch of the Deployment manifest, containers by name",
    )
    action: SubmittedAction | None = Field(
        default=None, description="The same change as a direct action on the cluster"
    )


class SubmittedDiagnosis(BaseModel):
    """The final answer of an investigation, as the model submits it."""

    model_config = ConfigDict(extra="forbid")

    category: DiagnosisCategory = Field(description="The failure class")
    fault_found: bool = Field(default=True, description="False when the workload is healthy")
    summary: str = Field(min_length=1, max_length=500, description="One line: what is wrong")
    evidence: list[SubmittedEvidence] = Field(
        min_length=1, max_length=20, description="The facts the diagnosis relies on"
    )
    confidence: float = Field(ge=0.0, le=1.0)
    containers: list[str] = Field(default_factory=list, description="Affected containers")
    suggested_fix: FixKind = Field(description="The kind of change that would fix it")
    recommendation: str = Field(
        default="", max_length=1000, description="What a person should do, in one or two lines"
    )
    proposed_fix: SubmittedFix | None = Field(
        default=None, description="A concrete patch, when a safe one exists"
    )


def submit_tool() -> dict[str, Any]:
    """Return the `submit_diagnosis` tool definition, its schema generated from the model."""
    return {
        "name": SUBMIT_TOOL,
        "description": (
            "Submit the final diagnosis of the incident. Call it exactly once, when the "
            "evidence is sufficient; the investigation ends with it."
        ),
        "input_schema": SubmittedDiagnosis.model_json_schema(),
    }


def describe_errors(error: ValidationError) -> str:
    """Return a validation failure as short lines the model can act on (no input echoed)."""
    lines = []
    for item in error.errors(include_url=False, include_input=False)[:10]:
        where = ".".join(str(part) for part in item["loc"]) or "input"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def to_diagnosis(
    submitted: SubmittedDiagnosis, context: ClusterContext, analyzer: str
) -> Diagnosis:
    """Return the Diagnosis a submission describes; its proposed fix is not yet checked."""
    return Diagnosis(
        category=submitted.category,
        summary=submitted.summary,
        fault_found=submitted.fault_found,
        evidence=[Evidence(source=e.source, detail=e.detail) for e in submitted.evidence],
        confidence=submitted.confidence,
        containers=submitted.containers,
        suggested_fix=submitted.suggested_fix,
        recommendation=submitted.recommendation,
        analyzer=analyzer,
        proposed_fix=_proposal(submitted.proposed_fix, context),
    )


def _proposal(fix: SubmittedFix | None, context: ClusterContext) -> FixProposal | None:
    if fix is None:
        return None
    action = None
    if fix.action is not None:
        action = RemediationAction(
            kind=fix.action.kind,
            namespace=fix.action.namespace or context.namespace,
            deployment=fix.action.deployment or context.workload,
            patch=fix.action.patch,
            replicas=fix.action.replicas,
            revision=fix.action.revision,
            workload_kind=context.kind,
        )
    return FixProposal(
        kind=fix.kind,
        risk=RISK[fix.kind],  # the model never chooses its own risk level
        rationale=fix.rationale,
        manifest_patch=fix.manifest_patch,
        action=action,
        workload_kind=context.kind,
    )
