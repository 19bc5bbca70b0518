"""The Slack activity: one decision message per incident and attempt, kept up to date."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from selfheal.contracts.spec import BEST_EFFORT, ActivityCall
from selfheal.model.diagnosis import Diagnosis, FixProposal
from selfheal.model.incident import DecisionMessage, IncidentState


class DecisionCard(BaseModel):
    """What the decision message shows: the incident as it stands, and what to decide."""

    incident_id: str
    attempt: int
    state: IncidentState
    note: str = Field(description="The latest transition's note, shown under the state")
    namespace: str = ""
    service: str = ""
    cluster: str = ""
    diagnosis: Diagnosis | None = None
    fix: FixProposal | None = None
    pr_url: str | None = None
    ticket_key: str | None = None
    ticket_url: str | None = None
    deadline: datetime | None = None
    opened_at: datetime = Field(description="When the incident opened: its message is younger")


class DecisionPost(BaseModel):
    """Post the card (or find the one posted for its attempt), else update `message`; then
    say `thread_note` in the message's thread, once however often the activity runs."""

    card: DecisionCard
    message: DecisionMessage | None = Field(
        default=None, description="The message to update; None: find or post the attempt's"
    )
    thread_note: str = ""
    note_key: str = Field(default="", description="Tells a retried reply from a new one")


class DecisionPosted(BaseModel):
    """The decision message, or why there is none (Slack not configured)."""

    message: DecisionMessage | None = None
    note: str = ""


PUBLISH_DECISION = ActivityCall(
    "publish_decision", DecisionPosted, timedelta(seconds=30), retry=BEST_EFFORT
)
