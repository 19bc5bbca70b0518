"""Waiting on incidents from outside: polls with deadlines, for the demo, experiments and tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from temporalio.client import Client

from selfheal.client.listing import list_incidents

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float, every: float = 0.5
) -> T:
    """The first non-None answer of `probe`; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        await asyncio.sleep(every)


async def incident_about(
    client: Client, deployment: str, since: datetime, timeout: float = 90
) -> str:
    """The id of the incident opened about `deployment` after `since`, once it is listed."""

    async def opened() -> str | None:
        for incident in await list_incidents(client, service=deployment, limit=20):
            if incident.started_at and incident.started_at >= since:
                return incident.id
        return None

    return await eventually(opened, f"an incident about {deployment}", timeout, every=1)
