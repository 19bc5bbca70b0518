"""The workload's workflow: its argument and what it remembers across runs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from selfheal.model.alerts import Alert, WorkloadRef
from selfheal.model.guard import LedgerState
from selfheal.model.incident import IncidentEnding


class WorkloadState(BaseModel):
    """What a workload's workflow remembers, carried across continue-as-new."""

    opened: int = Field(default=0, description="Incidents opened so far")
    open_incident: str | None = None
    last: IncidentEnding | None = None
    alerts: int = Field(default=0, description="Alerts received")
    ignored: int = Field(default=0, description="Alerts that opened nothing")
    ledger: LedgerState | None = Field(
        default=None, description="Its remediations within the anti-loop window"
    )
    deliveries: dict[str, datetime] = Field(
        default_factory=dict, description="Recent deliveries by digest, when each arrived"
    )
    repeats: int = Field(default=0, description="Deliveries dropped as a sender's retry")


class WorkloadInput(BaseModel):
    """WorkloadWorkflow's argument: the workload, where its incidents run, and its memory."""

    workload: WorkloadRef
    incident_task_queue: str
    state: WorkloadState | None = None
    pending: list[Alert] = Field(
        default_factory=list, description="Alerts not yet passed on when it continued as new"
    )
