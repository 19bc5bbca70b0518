"""The chat notification activity."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from selfheal.contracts.spec import BEST_EFFORT, ActivityCall
from selfheal.model.incident import IncidentState


class Notification(BaseModel):
    incident_id: str
    state: IncidentState
    text: str


class NotificationResult(BaseModel):
    sent: bool
    note: str = ""


NOTIFY = ActivityCall("notify", NotificationResult, timedelta(seconds=15), retry=BEST_EFFORT)
