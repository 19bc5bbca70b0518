"""The guard's activity: ask before changing anything (kill switch, anti-loop limit)."""

from __future__ import annotations

from datetime import timedelta

from selfheal.contracts.spec import ActivityCall
from selfheal.model.guard import Permit

REQUEST_PERMIT = ActivityCall("request_permit", Permit, timedelta(seconds=30))
