"""The JIRA activities: the incident's ticket, opened, updated and caught up."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from selfheal.contracts.spec import BEST_EFFORT, PATIENT, ActivityCall
from selfheal.model.incident import IncidentState


class TicketRequest(BaseModel):
    incident_id: str
    summary: str
    description: str
    existing_key: str | None = None
    labels: list[str] = Field(default_factory=list)


class TicketRef(BaseModel):
    """The incident's ticket, or why there is none."""

    key: str | None = None
    url: str | None = None
    note: str = ""


class TicketUpdate(BaseModel):
    incident_id: str
    key: str
    state: IncidentState
    comment: str
    alerts: str = Field(default="", description="The alerts so far, e.g. `4 alerts: A, B`")


class TicketCatchUp(BaseModel):
    """A ticket a JIRA outage kept an ended incident from opening, and what to write there."""

    ticket: TicketRequest
    state: IncidentState = Field(description="How the incident ended")
    story: str = Field(description="The incident's timeline, one line per entry")


OPEN_TICKET = ActivityCall("open_ticket", TicketRef, timedelta(seconds=30), retry=BEST_EFFORT)


UPDATE_TICKET = ActivityCall("update_ticket", TicketRef, timedelta(seconds=30), retry=BEST_EFFORT)


OPEN_TICKET_LATER = ActivityCall("open_ticket", TicketRef, timedelta(seconds=30), retry=PATIENT)


UPDATE_TICKET_LATER = ActivityCall("update_ticket", TicketRef, timedelta(seconds=30), retry=PATIENT)
