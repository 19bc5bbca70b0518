"""A snapshot captured from the cluster holds what gather_context reads, in kubectl's format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from kubernetes import client
from temporalio.testing import ActivityEnvironment

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.contracts.kubernetes import ContextRequest
from selfheal.snapshot_capture import capture_snapshot
from selfheal.snapshots import load_snapshot
from tests.kubernetes.workloads import (
    CRASHING,
    create,
    deployment,
    eventually,
    every_pod,
    restarts,
    secret,
)

CANARY = "canary-snapshot-secret-42"


def test_snapshot_of_a_crashlooping_deployment_reads_back_like_the_live_cluster(
    api_client: client.ApiClient,
    namespace: str,
    activities: Callable[..., KubernetesActivities],
    tmp_path: Path,
) -> None:
    create(api_client, namespace, secret("checkout-db", password=CANARY))
    env = [
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}}
    ]
    create(api_client, namespace, deployment("checkout", image=CRASHING, env=env))
    eventually(
        lambda: every_pod(api_client, namespace, "checkout", lambda pod: restarts(pod) >= 2),
        what="checkout pods restarting",
    )

    out = capture_snapshot(api_client, namespace, "checkout", tmp_path / "snap")
    live = ActivityEnvironment().run(
        activities().gather_context,
        ContextRequest(
            incident_id="inc-1", cluster="sandbox", namespace=namespace, workload="checkout"
        ),
    )

    document = yaml.safe_load((out / "objects.yaml").read_text())
    assert document["kind"] == "List" and document["apiVersion"] == "v1"
    kinds = {item["kind"] for item in document["items"]}
    assert {"Deployment", "ReplicaSet", "Pod", "Event", "Secret"} <= kinds
    assert all(item.get("apiVersion") for item in document["items"])
    pod_name = live.pods[0]["metadata"]["name"]
    logs = out / "logs" / pod_name
    assert (logs / "app.previous.txt").exists()
    # The crash output is in the current log while the container waits in back-off, and in
    # the previous log once it has started again; the snapshot must carry it either way.
    crash_output = (logs / "app.txt").read_text() + (logs / "app.previous.txt").read_text()
    assert "migration failed" in crash_output
    assert CANARY not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())

    replayed = load_snapshot(out)
    assert replayed.workload == "checkout" and replayed.namespace == namespace
    assert [p["metadata"]["name"] for p in replayed.pods] == [
        p["metadata"]["name"] for p in live.pods
    ]
    assert replayed.deployment and live.deployment
    assert replayed.deployment["spec"] == live.deployment["spec"]
    exit_codes = {
        s["lastState"]["terminated"]["exitCode"]
        for p in replayed.pods
        for s in p["status"]["containerStatuses"]
    }
    assert exit_codes == {1}
    assert {s["metadata"]["name"] for s in replayed.secrets} == {"checkout-db"}
