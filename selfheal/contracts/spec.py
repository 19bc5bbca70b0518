"""How an activity is declared once: its name, result type, timeouts and retries.

A contract module per integration declares its activities as `ActivityCall`s; the
workflow calls them by spec (workflows/activity_calls.py `call`), the implementation
registers under the spec's name with `@implements(SPEC)`, and a test holds the worker's
registered set equal to the specified one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from temporalio import activity
from temporalio.common import RetryPolicy

ResultT = TypeVar("ResultT", bound=BaseModel)


PERSISTENT = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=12,
)
"""For calls whose failure stops the incident: retry for about five minutes, then escalate."""


BEST_EFFORT = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
)
"""For mirrors (ticket comments, chat): a short retry, then the incident moves on without them."""


KEEPALIVE = timedelta(seconds=15)
"""Heartbeat timeout of every call: the worker heartbeats every running activity
(workers/keepalive.py), so an activity whose worker died is retried after this long instead
of after its start-to-close timeout."""


@dataclass(frozen=True)
class ActivityCall(Generic[ResultT]):
    """How the workflow calls one activity."""

    name: str
    result_type: type[ResultT]
    start_to_close: timedelta = timedelta(seconds=60)
    retry: RetryPolicy = field(default_factory=lambda: PERSISTENT)
    heartbeat: timedelta | None = KEEPALIVE


PATIENT = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
)
"""For a ticket opened after its incident ended: JIRA has about two and a half hours to return."""


FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])


def implements(spec: ActivityCall[Any]) -> Callable[[FunctionT], FunctionT]:
    """Register the decorated method as the activity `spec` declares (under its name)."""
    return activity.defn(name=spec.name)
