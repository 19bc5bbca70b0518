"""The policy activity: the worker's settings that shape one incident."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from selfheal.contracts.spec import ActivityCall
from selfheal.model.alerts import Alert
from selfheal.model.policy import IncidentPolicy


class PolicyRequest(BaseModel):
    incident_id: str
    alert: Alert


LOAD_POLICY = ActivityCall("load_policy", IncidentPolicy, timedelta(seconds=10))
