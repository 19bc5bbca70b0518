"""The control routes of a sandbox stand-in: break it from another process, count its traffic.

Every stand-in (Kubernetes, GitHub, JIRA) is served behind `ControlRoutes`, which answers
the routes below itself, before any injected fault, so a hung or failing stand-in can always
be healed:

    GET    /sandbox/v1/faults    the fault in force (or null) and how many requests it hit
    PUT    /sandbox/v1/faults    inject one: {"status", "hang", "for_seconds", "count",
                                 "path_contains", "methods"} (see `Faults.set`)
    DELETE /sandbox/v1/faults    stop injecting; hung requests are released
    GET    /sandbox/v1/requests  requests served so far, by method and by "METHOD path"
    DELETE /sandbox/v1/requests  start counting from zero

Chaos experiments use them to make the stand-ins of a running `selfheal up` misbehave and
to count retries (a retry storm shows as a request count).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, Field, ValidationError

if TYPE_CHECKING:  # the stand-ins import this module while their packages load
    from selfheal_lab.sandbox.github.faults import ASGIApp, Faults, Receive, Scope, Send
    from selfheal_lab.sandbox.serving import ServedApp

PREFIX = "/sandbox/v1/"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONTROL_PATHS = frozenset({f"{PREFIX}faults", f"{PREFIX}requests"})


class FaultRequest(BaseModel):
    """The body of `PUT /sandbox/v1/faults`."""

    status: int = Field(default=503, ge=100, le=599)
    hang: bool = False
    for_seconds: float | None = Field(default=None, gt=0)
    count: int | None = Field(default=None, ge=1)
    path_contains: str | None = None
    methods: list[str] | None = None


class RequestCounter:
    """Counts the requests a stand-in serves, by method and by method and path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_route: Counter[str] = Counter()

    def count(self, method: str, path: str) -> None:
        with self._lock:
            self._by_route[f"{method} {path}"] += 1

    def reset(self) -> None:
        with self._lock:
            self._by_route.clear()

    def snapshot(self) -> dict[str, Any]:
        """Return the counts as the `GET /sandbox/v1/requests` answer."""
        with self._lock:
            by_route = dict(self._by_route)
        by_method: Counter[str] = Counter()
        for route, number in by_route.items():
            by_method[route.split(" ", 1)[0]] += number
        return {
            "total": sum(by_route.values()),
            "mutating": sum(n for m, n in by_method.items() if m in MUTATING),
            "by_method": dict(by_method),
            "by_route": by_route,
        }


class ControlRoutes:
    """ASGI wrapper serving the control routes and counting every other request to `app`."""

    def __init__(self, app: ASGIApp, faults: Faults, counter: RequestCounter | None = None):
        self.app = app
        self.faults = faults
        self.counter = counter or RequestCounter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path not in CONTROL_PATHS:
            # Everything else, a stand-in's own /sandbox/v1/ routes included, is served by it.
            self.counter.count(scope["method"], path)
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, answer = self._answer(scope["method"], path[len(PREFIX) :], body)
        data = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _answer(self, method: str, route: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if route == "faults" and method == "GET":
            return 200, self._faults()
        if route == "faults" and method == "PUT":
            try:
                request = FaultRequest.model_validate_json(body or b"{}")
                self.faults.set(
                    request.status,
                    hang=request.hang,
                    for_seconds=request.for_seconds,
                    count=request.count,
                    path_contains=request.path_contains,
                    methods=None if request.methods is None else set(request.methods),
                )
            except (ValidationError, ValueError) as err:
                return 422, {"message": str(err)}
            return 200, self._faults()
        if route == "faults" and method == "DELETE":
            self.faults.clear()
            return 200, self._faults()
        if route == "requests" and method == "GET":
            return 200, self.counter.snapshot()
        if route == "requests" and method == "DELETE":
            self.counter.reset()
            return 200, self.counter.snapshot()
        return 404, {"message": f"no control route {method} {PREFIX}{route}"}

    def _faults(self) -> dict[str, Any]:
        fault = self.faults.active
        active = None
        if fault is not None:
            active = {
                "status": fault.status,
                "hang": fault.hang,
                "path_contains": fault.path_contains,
                "methods": sorted(fault.methods) if fault.methods else None,
                "remaining": fault.remaining,
            }
        return {"active": active, "injected": self.faults.injected}


class ServedStandIn:
    """A stand-in's app served behind its control routes on a background thread.

    Subclasses set `app`, `faults` and `requests` in their constructor and name themselves.
    """

    name = "stand-in"
    app: ASGIApp
    faults: Faults
    requests: RequestCounter
    _served: ServedApp | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API on a background thread and return its base URL."""
        from selfheal_lab.sandbox.serving import ServedApp

        served = ControlRoutes(self.app, self.faults, self.requests)
        self._served = ServedApp(served, host=host, port=port).start()
        return self._served.url

    def stop(self) -> None:
        """Release any hung requests and stop serving."""
        self.faults.clear()
        if self._served is not None:
            self._served.stop()
            self._served = None

    @property
    def url(self) -> str:
        """The base URL clients use; only while started."""
        if self._served is None:
            raise RuntimeError(f"the {self.name} sandbox is not started")
        return self._served.url

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
