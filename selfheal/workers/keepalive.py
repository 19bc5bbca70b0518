"""Heartbeats for every running activity, so the server notices a dead worker in seconds.

Without a heartbeat, an activity whose worker was SIGKILLed is retried only when its
start-to-close timeout expires: minutes for a rollout wait. Every activity call in the
incident workflow sets a short heartbeat timeout (contracts/spec.py `KEEPALIVE`), and this
interceptor heartbeats on the worker's event loop for as long as the activity runs, whether
the activity is async or runs in the thread pool. A hung call still ends at its
start-to-close timeout; a dead worker is noticed at the heartbeat timeout.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

KEEPALIVE_INTERVAL = timedelta(seconds=3)
"""How often a running activity heartbeats. The worker's heartbeat throttle must not exceed
it (Worker max_heartbeat_throttle_interval), or beats are held back and the margin shrinks."""


class KeepAliveInterceptor(Interceptor):
    """Heartbeats every KEEPALIVE_INTERVAL while an activity with a heartbeat timeout runs."""

    def __init__(self, interval: timedelta = KEEPALIVE_INTERVAL) -> None:
        self._interval = interval.total_seconds()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _KeepAlive(next, self._interval)


class _KeepAlive(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, interval: float) -> None:
        super().__init__(next)
        self._interval = interval
        self._outbound: _LastBeat | None = None

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = _LastBeat(outbound)
        super().init(self._outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if activity.info().heartbeat_timeout is None or self._outbound is None:
            return await super().execute_activity(input)
        beating = asyncio.create_task(self._beat(self._outbound))
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()

    async def _beat(self, outbound: _LastBeat) -> None:
        # The first beat waits one interval: most activities finish sooner and need none.
        while True:
            await asyncio.sleep(self._interval)
            outbound.repeat()


class _LastBeat(ActivityOutboundInterceptor):
    """Remembers the activity's own latest heartbeat details, so a keep-alive beat repeats
    them (the progress note the Web UI shows) instead of blanking them."""

    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self._details: tuple[Any, ...] = ()

    def heartbeat(self, *details: Any) -> None:
        self._details = details
        super().heartbeat(*details)

    def repeat(self) -> None:
        super().heartbeat(*self._details)
