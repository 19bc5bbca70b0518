"""The kill switch and the anti-loop limit: their requests, answers and durable state."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from selfheal.model.alerts import WorkloadRef


class FreezeRequest(BaseModel):
    """Halt every remediation until unfrozen (`selfheal freeze`)."""

    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=4000)


class UnfreezeRequest(BaseModel):
    """Let remediation resume (`selfheal unfreeze`)."""

    by: str = Field(min_length=1, max_length=200)


class FreezeState(BaseModel):
    """Whether the kill switch is on, and who turned it on or off and why."""

    frozen: bool = False
    by: str = ""
    reason: str = ""
    at: datetime | None = None


class RemediationRecord(BaseModel):
    """One remediation granted on a workload, for the anti-loop limit."""

    incident_id: str
    at: datetime
    action: str


class PermitRequest(BaseModel):
    """An incident asks the guard before it changes anything."""

    incident_id: str
    workload: str = Field(description="cluster/namespace/deployment")
    target: WorkloadRef | None = Field(
        default=None, description="The workload whose WorkloadWorkflow keeps the count"
    )
    action: str = Field(description="What it is about to do, for the record")
    key: str = Field(description="Idempotency key: the same key gets the same answer")
    counts: bool = Field(default=True, description="False for undo actions (rollback, revert)")
    limit: int = Field(default=3, ge=1)
    window: timedelta = timedelta(hours=24)


class Permit(BaseModel):
    """The guard's answer: go ahead, wait (frozen), or stop (anti-loop)."""

    granted: bool
    freeze: FreezeState = Field(default_factory=FreezeState)
    refusal: str = ""
    earlier: list[RemediationRecord] = Field(default_factory=list)
    decided_at: datetime | None = None


class GuardNotice(BaseModel):
    """Tells a running incident the kill switch changed (signal `guard_changed`)."""

    freeze: FreezeState


class GuardState(BaseModel):
    """The kill switch's durable state, carried across continue-as-new."""

    freeze: FreezeState = Field(default_factory=FreezeState)
    waiting: list[str] = Field(default_factory=list)


class LedgerState(BaseModel):
    """One workload's recent remediations and the answers given, for the anti-loop limit."""

    workload: str = Field(description="cluster/namespace/deployment")
    window: timedelta = timedelta(hours=24)
    records: list[RemediationRecord] = Field(default_factory=list)
    answers: dict[str, Permit] = Field(default_factory=dict)
