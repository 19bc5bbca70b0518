"""Fault injection for the sandbox stand-ins: make a server answer errors or hang on purpose."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorBody = Callable[[int], dict[str, Any]]


@dataclass
class Fault:
    """One injected failure: answer `status` (or hang) for requests that match it."""

    status: int = 503
    hang: bool = False
    until: float | None = None
    remaining: int | None = None
    path_contains: str | None = None
    methods: frozenset[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path_contains is None or self.path_contains in path

    def expired(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return True
        return self.remaining is not None and self.remaining <= 0


class Faults:
    """The switchboard tests and chaos scenarios use to make a stand-in misbehave.

    `set(status=503)` fails every request until `clear()`; `for_seconds` or `count` bound it;
    `hang=True` holds requests unanswered (until the fault ends) so clients hit their timeouts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self.injected = 0

    def set(
        self,
        status: int = 503,
        *,
        hang: bool = False,
        for_seconds: float | None = None,
        count: int | None = None,
        path_contains: str | None = None,
        methods: set[str] | None = None,
    ) -> None:
        """Start answering matching requests with `status` (or hanging them)."""
        if hang and count is not None:
            raise ValueError("a hang lasts until clear() or for_seconds; count does not apply")
        with self._lock:
            self._fault = Fault(
                status=status,
                hang=hang,
                until=None if for_seconds is None else time.monotonic() + for_seconds,
                remaining=count,
                path_contains=path_contains,
                methods=None if methods is None else frozenset(m.upper() for m in methods),
            )

    def clear(self) -> None:
        """Stop injecting; requests held by a hang are released and served normally."""
        with self._lock:
            self._fault = None

    @property
    def active(self) -> Fault | None:
        """Return the fault in force right now, if any."""
        with self._lock:
            if self._fault is not None and self._fault.expired(time.monotonic()):
                self._fault = None
            return self._fault

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault that applies to this request, counting it against `count`."""
        with self._lock:
            fault = self._fault
            if fault is None or fault.expired(time.monotonic()):
                self._fault = None
                return None
            if not fault.matches(method, path):
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
            self.injected += 1
            return fault


class FaultMiddleware:
    """ASGI middleware that answers (or stalls) requests while a fault is injected."""

    def __init__(self, app: ASGIApp, faults: Faults, error_body: ErrorBody) -> None:
        self.app = app
        self.faults = faults
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.hang:
            # Poll rather than wait forever, so `clear()` and server shutdown release the request.
            while self.faults.active is fault:
                await asyncio.sleep(0.05)
            await self.app(scope, receive, send)
            return
        body = json.dumps(self.error_body(fault.status)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": fault.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
