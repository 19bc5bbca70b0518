"""Waiting inside a long activity: heartbeat, sleep, and stop at once when cancelled."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import CancelledError


def pause(seconds: float, note: str) -> None:
    """Heartbeat `note` and sleep up to `seconds`, returning early (and raising) if cancelled."""
    activity.heartbeat(note)
    activity.wait_for_cancelled_sync(max(seconds, 0.0))
    if activity.is_cancelled():
        raise CancelledError(f"cancelled while waiting: {note}")
