"""One worker, two clusters: every Kubernetes read and write goes to the cluster the alert names.

Two sandbox Kubernetes APIs stand for prod-eu-1 (the worker's own, through its kubeconfig's
context) and prod-us-1 (SELFHEAL_CLUSTERS). The real `selfheal worker` process fixes an OOM
on each; each fix lands on its own cluster only, and an alert about a cluster the worker does
not know escalates at once having sent no request to either.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as kube_config
from temporalio.testing import WorkflowEnvironment

from selfheal.chaos.injection import inject
from selfheal.model.alerts import Alert, AlertSource
from selfheal.model.incident import IncidentState
from selfheal_lab.sandbox.control import MUTATING
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from tests.delivery import deliver
from tests.e2e.follow import wait_for_state
from tests.integration.direct_worker import direct_worker

ROOT = Path(__file__).resolve().parents[2]
FAST = Timing(tick=0.05, scale=0.05)
CONTEXTS = {"prod-eu-1": "ctx-eu", "prod-us-1": "ctx-us"}


@pytest.fixture
def clusters() -> Iterator[dict[str, KubeSandbox]]:
    """Two sandbox clusters, each running the demo app, by cluster name."""
    started = {name: KubeSandbox(timing=FAST, progress_scale=0.05) for name in CONTEXTS}
    for sandbox in started.values():
        sandbox.start()
    try:
        for sandbox in started.values():
            sandbox.wait_for_available(timeout=60)
        yield started
    finally:
        for sandbox in started.values():
            sandbox.stop()


def two_context_kubeconfig(path: Path, clusters: dict[str, KubeSandbox]) -> Path:
    """One kubeconfig with a context per cluster; the current one is prod-eu-1's."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [{"name": "sandbox", "user": {"token": "sandbox"}}],
        "contexts": [],
        "current-context": CONTEXTS["prod-eu-1"],
    }
    for name, sandbox in clusters.items():
        config["clusters"].append({"name": name, "cluster": {"server": sandbox.url}})
        config["contexts"].append(
            {"name": CONTEXTS[name], "context": {"cluster": name, "user": "sandbox"}}
        )
    path.write_text(yaml.safe_dump(config))
    return path


def mutations(sandbox: KubeSandbox) -> Counter[str]:
    by_route: dict[str, int] = httpx.get(f"{sandbox.url}/sandbox/v1/requests").json()["by_route"]
    return Counter({r: n for r, n in by_route.items() if r.split(" ", 1)[0] in MUTATING})


def requests_about(sandbox: KubeSandbox, word: str) -> int:
    by_route: dict[str, int] = httpx.get(f"{sandbox.url}/sandbox/v1/requests").json()["by_route"]
    return sum(n for route, n in by_route.items() if word in route)


def memory_limit(sandbox: KubeSandbox, deployment: str) -> str:
    api = k8s.ApiClient(k8s.Configuration(host=sandbox.url))
    found = api.sanitize_for_serialization(
        k8s.AppsV1Api(api).read_namespaced_deployment(deployment, "demo")
    )
    return str(found["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"])


def wait_until_oom_killed(sandbox: KubeSandbox, deployment: str, timeout: float = 60) -> None:
    api = k8s.ApiClient(k8s.Configuration(host=sandbox.url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = api.sanitize_for_serialization(k8s.CoreV1Api(api).list_namespaced_pod("demo").items)
        for pod in pods:
            if not pod["metadata"]["name"].startswith(f"{deployment}-"):
                continue
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                if ((status.get("lastState") or {}).get("terminated") or {}).get(
                    "reason"
                ) == "OOMKilled":
                    return
        time.sleep(0.2)
    raise AssertionError(f"{deployment} not OOMKilled within {timeout}s")


def oom_alert(cluster: str, deployment: str) -> Alert:
    return Alert(
        name="KubeContainerOOMKilled",
        source=AlertSource.ALERTMANAGER,
        cluster=cluster,
        namespace="demo",
        workload=deployment,
        severity="critical",
        external_id=f"{cluster}-{deployment}",
    )


async def test_each_fix_lands_on_the_cluster_its_alert_names(
    dev_server_env: WorkflowEnvironment, clusters: dict[str, KubeSandbox], tmp_path: Path
) -> None:
    queue = f"clusters-{uuid.uuid4().hex[:8]}"
    kubeconfig = two_context_kubeconfig(tmp_path / "kubeconfig", clusters)
    others = f"prod-us-1={CONTEXTS['prod-us-1']}"
    with direct_worker(dev_server_env, queue, kubeconfig, "prod-eu-1", SELFHEAL_CLUSTERS=others):
        eu, us = clusters["prod-eu-1"], clusters["prod-us-1"]
        untouched = {"eu": memory_limit(eu, "checkout"), "us": memory_limit(us, "payments")}
        for context, deployment in (("ctx-eu", "payments"), ("ctx-us", "checkout")):
            api = kube_config.new_client_from_config(str(kubeconfig), context)
            inject(api, "oom", "demo", deployment)
        wait_until_oom_killed(eu, "payments")
        wait_until_oom_killed(us, "checkout")
        before = {name: mutations(sandbox) for name, sandbox in clusters.items()}
        client = dev_server_env.client
        where = (queue, "http://ui", "prod-eu-1", f"{queue}-workloads")  # as the worker serves
        fixes = [
            await deliver(client, oom_alert("prod-eu-1", "payments"), *where),
            await deliver(client, oom_alert("prod-us-1", "checkout"), *where),
        ]
        unknown = await deliver(client, oom_alert("prod-ap-1", "catalog"), *where)

        ended = await asyncio.gather(
            *(wait_for_state(client, d.incident_id, {IncidentState.RESOLVED}) for d in fixes)
        )
        lost = await wait_for_state(client, unknown.incident_id, {IncidentState.ESCALATED})

    assert [status.cluster for status in ended] == ["prod-eu-1", "prod-us-1"]
    # Each fix patched its own cluster's Deployment, and nothing on the other.
    assert memory_limit(eu, "payments") == memory_limit(us, "checkout") == "256Mi"
    assert memory_limit(eu, "checkout") == untouched["eu"]
    assert memory_limit(us, "payments") == untouched["us"]
    eu_writes = mutations(eu) - before["prod-eu-1"]
    us_writes = mutations(us) - before["prod-us-1"]
    assert eu_writes and all("payments" in route for route in eu_writes), eu_writes
    assert us_writes and all("checkout" in route for route in us_writes), us_writes
    # The unknown cluster: escalated at once, naming it, having asked neither cluster a thing.
    reason = lost.escalation_reason or ""
    assert "prod-ap-1" in reason and "nothing was read or changed" in reason, reason
    assert lost.diagnosis is None and lost.actions_taken == 0
    assert requests_about(eu, "catalog") == requests_about(us, "catalog") == 0
