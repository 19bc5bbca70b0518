"""What people decide about an incident (signals and updates) and the answer they get."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from selfheal.model.incident import IncidentState


class Approval(BaseModel):
    """A person approves the proposed fix (signal and update `approve`)."""

    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=4000)
    proposal: str = Field(
        default="",
        max_length=64,
        description="Digest of the proposal approved (`selfheal show`); empty: the current one",
    )
    channel: str = Field(
        default="ui",
        max_length=20,
        description="Where the decision was made (cli, ui, slack, github), as that channel says",
    )


class Rejection(BaseModel):
    """A person rejects the proposed fix (signal and update `reject`)."""

    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=4000)
    proposal: str = Field(
        default="", max_length=64, description="Digest of the proposal rejected; empty: current"
    )
    channel: str = Field(default="ui", max_length=20, description="cli, ui, slack or github")


class RetryRequest(BaseModel):
    """A person sends an ESCALATED incident back to analysis (signal `retry`)."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=4000)


class ManualResolution(BaseModel):
    """A person closes an ESCALATED incident by hand (signal `resolve`)."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=4000)


class PullRequestAction(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    MERGED = "merged"
    CLOSED = "closed"


class PullRequestEvent(BaseModel):
    """Something happened to the incident's pull request (signal `pr_event`)."""

    action: PullRequestAction
    number: int
    by: str = ""
    url: str = ""
    comment: str = ""


class SignalAck(BaseModel):
    """Answer of a validated update: the incident's state after the decision."""

    incident_id: str
    state: IncidentState
    note: str = ""
