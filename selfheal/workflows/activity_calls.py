"""How workflow code runs an activity: by its spec, never by an integration's client.

The specs (name, result type, timeouts, retries) live in `selfheal/contracts/`, one module
per integration; the worker registers the implementations under the same names.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from selfheal.contracts.spec import ActivityCall, ResultT


async def call(
    spec: ActivityCall[ResultT], request: BaseModel, *, start_to_close: timedelta | None = None
) -> ResultT:
    """Run one activity from workflow code and return its typed result."""
    return await workflow.execute_activity(
        spec.name,
        request,
        result_type=spec.result_type,
        start_to_close_timeout=start_to_close or spec.start_to_close,
        heartbeat_timeout=spec.heartbeat,
        retry_policy=spec.retry,
    )
