"""Real Prometheus and Alertmanager (Debian's binaries) on free ports, scraping a /metrics
endpoint the test serves; where the binaries are missing the fixtures fail with the command
that installs them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from selfheal_lab.monitoring import (
    ALERTMANAGER,
    PROMETHEUS,
    AlertmanagerServer,
    PrometheusServer,
    ScrapeTarget,
    find_tool,
)
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.serving import ServedApp

T = TypeVar("T")

RULES = """
groups:
  - name: test
    interval: 1s
    rules:
      - alert: QueueTooLong
        expr: queue_length{job="app"} > 10
        labels: {severity: warning}
        annotations:
          summary: 'queue at {{ $value }}'
"""

BASIC_AUTH = """
basic_auth_users:
  ops: $2b$04$gzwNECnK5gPY1TRRdc0AKOqy8TodoBA2ldzNhvEwIvbauDZ/IX2S2
"""
"""Prometheus' web config: user `ops`, password `s3cret` (bcrypt, cost 4)."""


@dataclass
class MetricsEndpoint:
    """A /metrics endpoint with a gauge the test sets and a counter that grows 1 per scrape;
    any other path is a 404 that remembers the request's Authorization header."""

    queue_length: float = 3.0
    requests: int = 0
    authorization: str = ""
    served: ServedApp | None = field(default=None, repr=False)

    async def metrics(self, request: Request) -> PlainTextResponse:
        self.requests += 1
        self.authorization = request.headers.get("authorization", "")
        text = (
            "# HELP queue_length Items waiting.\n"
            "# TYPE queue_length gauge\n"
            f'queue_length{{queue="orders"}} {self.queue_length}\n'
            "# HELP scrapes_total Scrapes served.\n"
            "# TYPE scrapes_total counter\n"
            f"scrapes_total {self.requests}\n"
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def elsewhere(self, request: Request) -> PlainTextResponse:
        self.authorization = request.headers.get("authorization", "")
        return PlainTextResponse("404 page not found", status_code=404)

    @property
    def address(self) -> str:
        assert self.served is not None
        return f"{self.served.host}:{self.served.port}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MetricsEndpoint]:
    metrics = MetricsEndpoint()
    metrics.served = ServedApp(
        Starlette(
            routes=[
                Route("/metrics", metrics.metrics),
                Route("/{path:path}", metrics.elsewhere, methods=["GET", "POST"]),
            ]
        )
    ).start()
    yield metrics
    metrics.served.stop()


def require(name: str) -> None:
    """Fail (never skip) when a binary is missing, with the command that installs it."""
    try:
        find_tool(name)
    except FileNotFoundError as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertmanagerServer]:
    require(ALERTMANAGER)
    server = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory,
    endpoint: MetricsEndpoint,
    alertmanager: AlertmanagerServer,
) -> Iterator[PrometheusServer]:
    require(PROMETHEUS)
    server = PrometheusServer(
        tmp_path_factory.mktemp("prometheus"),
        targets=[ScrapeTarget("app", endpoint.address)],
        rules=RULES,
        alertmanager=alertmanager.url,
    )
    server.start()
    yield server
    server.stop()


def start_prometheus(directory: Path, **options: Any) -> PrometheusServer:
    require(PROMETHEUS)
    server = PrometheusServer(directory, **options)
    server.start()
    return server


def wait_for(probe: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what or probe.__name__} (last: {last!r})")


# Package scope, not session: the sandbox simulates in this process and Prometheus scrapes
# it every second, which would steal the interpreter from every later test.
@pytest.fixture(scope="package")
def shop(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[KubeSandbox, PrometheusServer]]:
    """The sandbox running fine, throttled and oom, scraped by a real Prometheus."""
    from tests.prometheus.sandbox_cluster import scraped_shop

    with scraped_shop(tmp_path_factory.mktemp("shop")) as running:
        yield running
