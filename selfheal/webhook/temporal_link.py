"""The webhook's link to Temporal: connected on first use, retried after failure, time-bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

log = structlog.get_logger("selfheal.webhook")

T = TypeVar("T")
ClientFactory = Callable[[], Awaitable[Client]]

_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


class TemporalUnavailable(Exception):
    """Temporal cannot be reached right now; the sender should retry after `retry_after` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporalLink:
    """Holds the one Temporal client of the webhook process, connecting it when first needed.

    The webhook therefore starts, and answers 503, while Temporal is down. A failed connect is
    remembered for `reconnect_pause` so a burst of requests does not become a burst of
    connection attempts; the SDK's client itself reconnects once it has connected.
    """

    def __init__(
        self,
        factory: ClientFactory,
        call_timeout: float = 5.0,
        retry_after: int = 5,
        reconnect_pause: float = 1.0,
    ) -> None:
        self._factory = factory
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._failed_at = float("-inf")
        self._last_error = ""
        self.call_timeout = call_timeout
        self.retry_after = retry_after
        self.reconnect_pause = reconnect_pause

    async def client(self) -> Client:
        """The connected client; raises TemporalUnavailable when it cannot connect."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is not None:
                return self._client
            if time.monotonic() - self._failed_at < self.reconnect_pause:
                raise self._unavailable(f"cannot connect to Temporal: {self._last_error}")
            try:
                async with asyncio.timeout(self.call_timeout):
                    self._client = await self._factory()
            except (OSError, RuntimeError, RPCError, TimeoutError) as err:
                self._failed_at = time.monotonic()
                self._last_error = str(err) or type(err).__name__
                log.warning("temporal connect failed", error=self._last_error)
                raise self._unavailable(f"cannot connect to Temporal: {self._last_error}") from err
            log.info("temporal connected", namespace=self._client.namespace)
            return self._client

    async def run(self, work: Callable[[Client], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `work` with the client within `timeout` (default `call_timeout`); raise
        TemporalUnavailable if Temporal is down or does not answer in time."""
        client = await self.client()
        try:
            async with asyncio.timeout(timeout or self.call_timeout):
                return await work(client)
        except TimeoutError as err:
            raise self._unavailable("Temporal did not answer in time") from err
        except RPCError as err:
            if err.status not in _UNAVAILABLE:
                raise
            raise self._unavailable(f"Temporal is unavailable: {err.message}") from err

    async def reachable(self) -> bool:
        """True when Temporal's frontend answers a health check now."""
        try:
            client = await self.client()
            return await client.service_client.check_health(
                timeout=timedelta(seconds=min(self.call_timeout, 2.0))
            )
        except (TemporalUnavailable, RPCError, RuntimeError):
            return False

    def _unavailable(self, message: str) -> TemporalUnavailable:
        return TemporalUnavailable(message, self.retry_after)
