"""Captures the failure classes only metrics show, with real Prometheus: run this file.

Each case runs on a fresh sandbox cluster scraped every second by Debian's `prometheus`
(lab/selfheal_lab/monitoring.py); after the workload has run a while, `selfheal snapshot`'s
own capture writes its objects, logs and `metrics/workload.json` under
`<category>/<case>/` with the expected category and fix kind.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from selfheal.activities.prometheus.client import PrometheusClient
from selfheal.snapshot_capture import capture_snapshot
from selfheal_lab.monitoring import PrometheusServer, sandbox_targets
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from selfheal_lab.sandbox.kube.images import DEMO_REPOSITORY

ROOT = Path(__file__).parent
NAMESPACE = "shop"
CHECKOUT = f"{DEMO_REPOSITORY}/checkout:1.4.2"
"""Needs 100m CPU and 180 MiB."""
ENVOY = "docker.io/envoyproxy/envoy:v1.30.1"
"""Not a sandbox image: a generic service needing 50m CPU and 32 MiB."""


def _container(name: str, image: str, cpu: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {
            "requests": {"cpu": cpu, "memory": "64Mi"},
            "limits": {"cpu": cpu, "memory": "256Mi"},
        },
        **extra,
    }


def _deployment(name: str, containers: list[dict[str, Any]], replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers},
            },
        },
    }


FAST = Timing(tick=0.05, scale=0.02)
SLOWER = Timing(tick=0.05, scale=0.2)
"""For containers killed before a one-second scrape would see them twice at FAST."""


@dataclass(frozen=True)
class Case:
    folder: str
    deployment: dict[str, Any]
    expected: dict[str, Any] = field(default_factory=dict)
    timing: Timing = FAST
    run_seconds: float = 25.0
    window: timedelta = timedelta(seconds=30)


CASES = [
    Case(
        "cpu_throttling/pinned_at_10m",
        _deployment("checkout", [_container("checkout", CHECKOUT, "10m")]),
        {
            "category": "cpu_throttling",
            "fix": "increase_cpu",
            "description": "checkout needs 100m and is limited to 10m: throttled in every "
            "CFS period, yet running and ready; only the metrics show it.",
            "containers": ["checkout"],
        },
    ),
    Case(
        "cpu_throttling/slow_start_killed_by_liveness",
        _deployment(
            "checkout",
            [
                _container(
                    "checkout",
                    CHECKOUT,
                    "5m",
                    livenessProbe={
                        "httpGet": {"path": "/healthz", "port": "http"},
                        "periodSeconds": 10,
                        "failureThreshold": 3,
                    },
                )
            ],
        ),
        {
            "category": "cpu_throttling",
            "fix": "increase_cpu",
            "description": "At 5m CPU checkout starts so slowly its liveness probe kills it: "
            "the probe is the symptom, the CPU limit the cause.",
            "containers": ["checkout"],
        },
        timing=SLOWER,
        run_seconds=50.0,
        window=timedelta(seconds=60),
    ),
    Case(
        "cpu_throttling/sidecar_only",
        _deployment(
            "checkout",
            [_container("checkout", CHECKOUT, "500m"), _container("envoy", ENVOY, "20m")],
        ),
        {
            "category": "cpu_throttling",
            "fix": "increase_cpu",
            "description": "The envoy sidecar (needs 50m, limit 20m) is throttled; the app "
            "container is not, so only the sidecar's limit is raised.",
            "containers": ["envoy"],
        },
    ),
]


def capture(case: Case, scratch: Path) -> Path:
    """Run `case` on a fresh sandbox scraped by Prometheus and write its snapshot."""
    folder = ROOT / case.folder
    with KubeSandbox(seed_demo=False, timing=case.timing) as cluster:
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        cluster.apply(case.deployment)
        server = PrometheusServer(
            scratch / case.folder.replace("/", "-"),
            targets=sandbox_targets(cluster.url.split("://", 1)[1]),
        )
        server.start()
        try:
            time.sleep(case.run_seconds)
            configuration = client.Configuration()
            configuration.host = cluster.url
            if folder.exists():
                shutil.rmtree(folder)
            with client.ApiClient(configuration) as api, PrometheusClient(server.url) as prom:
                name = case.deployment["metadata"]["name"]
                capture_snapshot(
                    api, NAMESPACE, name, folder, prometheus=prom, metrics_window=case.window
                )
        finally:
            server.stop()
    (folder / "expected.yaml").write_text(yaml.safe_dump(case.expected, sort_keys=False, width=100))
    return folder


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        for case in CASES:
            if not names or case.folder in names:
                print(capture(case, Path(scratch)).relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
