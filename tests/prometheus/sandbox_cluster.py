"""A sandbox cluster with three checkout Deployments (healthy, CPU-throttled, OOM-killed),
scraped by a real Prometheus the way kube-prometheus scrapes a cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selfheal_lab.monitoring import PrometheusServer, sandbox_targets
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from selfheal_lab.sandbox.kube.images import DEMO_REPOSITORY
from tests.prometheus.conftest import start_prometheus

NAMESPACE = "shop"
CHECKOUT = f"{DEMO_REPOSITORY}/checkout:1.4.2"
"""checkout needs 100m CPU and 180 MiB of memory (images.py)."""
FAST = Timing(tick=0.05, scale=0.02)


def deployment(
    name: str,
    image: str,
    replicas: int,
    limits: dict[str, str],
    requests: dict[str, str] | None = None,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    """A Deployment of `image` with one container, `app`, limited by `limits`."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "resources": {
                                "requests": requests or {"cpu": "10m"},
                                "limits": limits,
                            },
                        }
                    ]
                },
            },
        },
    }


def checkout(name: str, replicas: int, limits: dict[str, str]) -> dict[str, Any]:
    """A Deployment of checkout with one container, `app`, limited by `limits`."""
    return deployment(name, CHECKOUT, replicas, limits)


WORKLOADS = {
    "fine": checkout("fine", 2, {"cpu": "500m", "memory": "256Mi"}),
    "throttled": checkout("throttled", 1, {"cpu": "10m", "memory": "256Mi"}),
    "oom": checkout("oom", 1, {"cpu": "500m", "memory": "64Mi"}),
}


def address(sandbox: KubeSandbox) -> str:
    """Where Prometheus reaches the sandbox: `host:port`."""
    return sandbox.url.split("://", 1)[1]


@contextmanager
def scraped_shop(directory: Path) -> Iterator[tuple[KubeSandbox, PrometheusServer]]:
    """The sandbox running WORKLOADS, and a Prometheus scraping it every second."""
    sandbox = KubeSandbox(seed_demo=False, timing=FAST, progress_scale=0.01)
    sandbox.start()
    try:
        sandbox.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for manifest in WORKLOADS.values():
            sandbox.apply(manifest)
        prometheus = start_prometheus(directory, targets=sandbox_targets(address(sandbox)))
        try:
            yield sandbox, prometheus
        finally:
            prometheus.stop()
    finally:
        sandbox.stop()
