"""Print gather_context's time and size for a workload of 200 crash-looping pods on the sandbox.

Run: `.venv/bin/python benchmarks/gather_context.py [--pods 200] [--runs 5]
[--kind deployment|statefulset]`. The StatefulSet has a claim per replica and Parallel pod
management (OrderedReady would never start a second pod next to a crashing first).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from kubernetes import client, config, utils
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.contracts.kubernetes import ContextRequest
from selfheal.settings import Settings
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from selfheal_lab.sandbox.kube.images import DEMO_REPOSITORY

NAMESPACE = "bench"


def manifests(replicas: int, kind: str = "Deployment") -> list[dict]:
    """Return a namespace, a Secret and a Deployment (or StatefulSet) of `replicas`
    crash-looping checkout pods."""
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]
    container = {
        "name": "app",
        "image": f"{DEMO_REPOSITORY}/checkout:1.5.0",
        "env": env,
        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"memory": "256Mi"}},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db"},
            "stringData": {"pw": "x"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": "checkout"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": {
                    "metadata": {"labels": {"app": "checkout"}},
                    "spec": {"containers": [container]},
                },
                **(_stateful_fields() if kind == "StatefulSet" else {}),
            },
        },
    ]


def _stateful_fields() -> dict:
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {
        "serviceName": "checkout",
        "podManagementPolicy": "Parallel",
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
    }


def wait_for_pods(api: client.ApiClient, count: int, timeout: float = 120) -> None:
    """Return once `count` checkout pods exist and each has restarted at least once."""
    core = client.CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(NAMESPACE, label_selector="app=checkout").items
        restarted = [
            p
            for p in pods
            if p.status and any(s.restart_count for s in p.status.container_statuses or [])
        ]
        if len(restarted) >= count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{count} restarted pods did not appear within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kind", choices=["deployment", "statefulset"], default="deployment")
    args = parser.parse_args()
    kind = {"deployment": "Deployment", "statefulset": "StatefulSet"}[args.kind]

    # A slow control-loop tick: the sandbox shares this process (and its GIL) with the client.
    with KubeSandbox(seed_demo=False, timing=Timing(tick=0.5, scale=0.02)) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig", NAMESPACE)
        api = config.new_client_from_config(config_file=str(kubeconfig))
        for manifest in manifests(args.pods, kind):
            utils.create_from_dict(api, manifest, namespace=NAMESPACE)
        wait_for_pods(api, args.pods)
        settings = Settings(kubeconfig=kubeconfig, cluster="sandbox")
        activities = KubernetesActivities(settings)
        request = ContextRequest(
            incident_id="inc-bench",
            cluster="sandbox",
            namespace=NAMESPACE,
            workload="checkout",
            kind=kind,
        )
        connection = ClusterConnection(api_client=api)
        totals, reads = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            context = ActivityEnvironment().run(activities.gather_context, request)
            totals.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = collect_workload_objects(connection, NAMESPACE, "checkout", 50, kind=kind)
            reads.append(time.perf_counter() - started)
        size = len(context.model_dump_json().encode())
        raw = len(json.dumps(found.objects).encode())

    print(f"gather_context, {kind} of {args.pods} pods, {args.runs} runs on the sandbox cluster")
    print(f"  total     median {statistics.median(totals):.3f}s  max {max(totals):.3f}s")
    print(
        f"  API reads median {statistics.median(reads):.3f}s "
        f"({len(found.objects)} objects, {raw} bytes of JSON, {len(found.logs)} log tails)"
    )
    print(f"  size      {size} bytes (bound {settings.context_max_bytes})")
    print(
        f"  kept      {len(context.pods)} pods, {len(context.events)} events, "
        f"{len(context.logs)} logs, {len(context.previous_logs)} previous logs, "
        f"truncated={context.truncated}"
    )


if __name__ == "__main__":
    main()
