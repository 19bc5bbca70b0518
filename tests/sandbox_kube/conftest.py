"""A fresh sandbox cluster per test, reached over HTTP through the official client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client

from selfheal_lab.sandbox.kube import KubeSandbox, Timing

FAST = Timing(tick=0.05, scale=0.02)
T = TypeVar("T")


@pytest.fixture
def sandbox() -> Iterator[KubeSandbox]:
    cluster = KubeSandbox(timing=FAST, progress_scale=0.01)
    cluster.start()
    cluster.wait_for_available(timeout=15)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def api(sandbox: KubeSandbox) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    configuration.host = sandbox.url
    with client.ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def kubeconfig(sandbox: KubeSandbox, tmp_path: Path) -> Path:
    return sandbox.write_kubeconfig(tmp_path / "kubeconfig")


def wait_for(probe: Callable[[], T | None], timeout: float = 10.0, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what or probe.__name__} (last: {last!r})")
