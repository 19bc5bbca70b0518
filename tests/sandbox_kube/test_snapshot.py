"""A snapshot of a broken workload loads into a sandbox, keeps its state, and can be healed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client

from selfheal.chaos import inject
from selfheal_lab.sandbox.kube import STATIC_ANNOTATION, KubeSandbox, load_snapshot
from tests.sandbox_kube.conftest import FAST, wait_for

NS = "demo"


def capture(url: str, directory: Path) -> list[dict[str, Any]]:
    """Write checkout's objects and logs the way `selfheal snapshot` lays them out."""
    paths = [
        f"/apis/apps/v1/namespaces/{NS}/deployments?fieldSelector=metadata.name=checkout",
        f"/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app=checkout",
        f"/api/v1/namespaces/{NS}/pods?labelSelector=app=checkout",
        f"/api/v1/namespaces/{NS}/events",
        f"/api/v1/namespaces/{NS}/configmaps?fieldSelector=metadata.name=checkout-config",
    ]
    items: list[dict[str, Any]] = []
    with httpx.Client(base_url=url) as http:
        for path in paths:
            items += http.get(path).json()["items"]
        secret = http.get(f"/api/v1/namespaces/{NS}/secrets/checkout-db").json()
        secret["data"] = dict.fromkeys(secret["data"], "")  # values removed, keys kept
        items.append(secret)
        for pod in [i for i in items if i["kind"] == "Pod"]:
            name = pod["metadata"]["name"]
            (directory / "logs" / name).mkdir(parents=True)
            for previous, suffix in ((False, ".txt"), (True, ".previous.txt")):
                response = http.get(
                    f"/api/v1/namespaces/{NS}/pods/{name}/log",
                    params={"container": "checkout", "previous": str(previous).lower()},
                )
                if response.status_code == 200:
                    (directory / "logs" / name / f"checkout{suffix}").write_text(response.text)
    (directory / "objects.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}})
    )
    return items


@pytest.fixture
def empty_sandbox() -> Iterator[KubeSandbox]:
    cluster = KubeSandbox(seed_demo=False, timing=FAST)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_loaded_snapshot_keeps_its_state_and_heals_when_remediated(
    sandbox: KubeSandbox,
    api: client.ApiClient,
    core: Any,
    empty_sandbox: KubeSandbox,
    tmp_path: Path,
) -> None:
    inject(api, "oom", NS, "checkout")
    wait_for(
        lambda: any(
            (p.status.container_statuses or [None])[0]
            and p.status.container_statuses[0].restart_count >= 2
            for p in core.list_namespaced_pod(NS, label_selector="app=checkout").items
        ),
        what="restarting checkout",
    )
    captured = capture(sandbox.url, tmp_path)
    oom_pods = {
        i["metadata"]["name"]: i
        for i in captured
        if i["kind"] == "Pod" and i["status"]["containerStatuses"][0]["restartCount"] >= 2
    }
    assert oom_pods

    loaded = load_snapshot(tmp_path, empty_sandbox.url)
    assert not loaded.skipped
    assert any(log.endswith(".previous.txt") for log in loaded.logs)

    configuration = client.Configuration()
    configuration.host = empty_sandbox.url
    with client.ApiClient(configuration) as replay:
        replay_core: Any = client.CoreV1Api(replay)
        replay_apps: Any = client.AppsV1Api(replay)
        name, original = next(iter(oom_pods.items()))
        pod = replay_core.read_namespaced_pod(name, NS)
        assert pod.metadata.annotations[STATIC_ANNOTATION] == "true"
        assert pod.metadata.uid == original["metadata"]["uid"]
        status = pod.status.container_statuses[0]
        assert status.restart_count == original["status"]["containerStatuses"][0]["restartCount"]
        assert status.last_state.terminated.reason == "OOMKilled"
        events = replay_core.list_namespaced_event(
            NS, field_selector=f"involvedObject.uid={pod.metadata.uid}"
        ).items
        assert any(e.reason == "BackOff" for e in events)
        previous = replay_core.read_namespaced_pod_log(
            name, NS, container="checkout", previous=True
        )
        assert "warming cart cache" in previous

        # The controllers adopt the loaded objects instead of starting pods of their own.
        time.sleep(0.3)
        pod_names = {p.metadata.name for p in replay_core.list_namespaced_pod(NS).items}
        assert pod_names == {i["metadata"]["name"] for i in captured if i["kind"] == "Pod"}

        replay_apps.patch_namespaced_deployment(
            "checkout",
            NS,
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "checkout",
                                    "resources": {
                                        "requests": {"memory": "256Mi"},
                                        "limits": {"memory": "256Mi"},
                                    },
                                }
                            ]
                        }
                    }
                }
            },
        )

        def healthy() -> bool:
            pods = replay_core.list_namespaced_pod(NS, label_selector="app=checkout").items
            return (
                len(pods) == 2
                and not {p.metadata.name for p in pods} & set(oom_pods)
                and all(
                    p.status.container_statuses and p.status.container_statuses[0].ready
                    for p in pods
                )
            )

        wait_for(healthy, timeout=15, what="replayed checkout healed")
