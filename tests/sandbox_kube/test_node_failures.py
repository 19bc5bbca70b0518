"""The sandbox's node failures, driven through its control API and read through the client:
memory pressure evicts the pods using more than they asked for, a stopped kubelet leaves its
pods not ready and then Terminating, and healing the node undoes both."""

from __future__ import annotations

from typing import Any

import httpx
from kubernetes import client

from selfheal.chaos import clear, inject
from selfheal_lab.sandbox.kube import KubeSandbox
from tests.sandbox_kube.conftest import wait_for

NS = "demo"


def pods(api: client.ApiClient, app: str) -> list[dict[str, Any]]:
    listed = client.CoreV1Api(api).list_namespaced_pod(NS, label_selector=f"app={app}")
    return list(api.sanitize_for_serialization(listed.items))


def node(api: client.ApiClient, name: str) -> dict[str, Any]:
    return dict(api.sanitize_for_serialization(client.CoreV1Api(api).read_node(name)))


def events(api: client.ApiClient, pod: str) -> list[tuple[str, str]]:
    listed = client.CoreV1Api(api).list_namespaced_event(
        NS, field_selector=f"involvedObject.name={pod}"
    )
    return [(str(e.reason), str(e.message)) for e in listed.items]


def test_memory_pressure_evicts_only_pods_over_their_request_with_the_kubelets_words(
    api: client.ApiClient,
) -> None:
    injection = inject(api, "evicted", NS, "catalog")
    assert injection.nodes

    def evicted() -> list[dict[str, Any]]:
        return [p for p in pods(api, "catalog") if p["status"].get("reason") == "Evicted"]

    gone = wait_for(evicted, 20, "an evicted catalog pod")
    message = gone[0]["status"]["message"]
    assert message.startswith("The node was low on resource: memory. Threshold quantity: 100Mi")
    assert (
        "Container catalog was using 150Mi, request is 64Mi, has larger consumption of memory"
        in message
    )
    assert ("Evicted", message) in events(api, gone[0]["metadata"]["name"])
    pressed = node(api, injection.nodes[0])
    assert {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}.items() <= (
        pressed["spec"]["taints"][0].items()
    )
    conditions = {c["type"]: c for c in pressed["status"]["conditions"]}
    assert conditions["MemoryPressure"]["reason"] == "KubeletHasInsufficientMemory"
    # checkout and payments stay within their requests: none of their pods is evicted.
    assert not [
        p for app in ("checkout", "payments") for p in pods(api, app) if p["status"].get("reason")
    ]

    assert clear(api, NS, "catalog") == "evicted"
    wait_for(lambda: "taints" not in node(api, injection.nodes[0])["spec"], 10, "the node relieved")


def test_a_stopped_kubelet_marks_pods_not_ready_then_for_deletion_until_it_returns(
    sandbox: KubeSandbox, api: client.ApiClient
) -> None:
    injection = inject(api, "node-notready", NS, "payments")
    (down,) = injection.nodes
    stranded = [p for p in pods(api, "payments") if p["spec"]["nodeName"] == down]
    name = stranded[0]["metadata"]["name"]

    def unknown() -> list[dict[str, Any]] | None:
        conditions: list[dict[str, Any]] = node(api, down)["status"]["conditions"]
        return conditions if {c["status"] for c in conditions} == {"Unknown"} else None

    ready = wait_for(unknown, 10, "the node's conditions Unknown")
    assert {c["message"] for c in ready} == {"Kubelet stopped posting node status."}

    def marked() -> dict[str, Any] | None:
        pod = next((p for p in pods(api, "payments") if p["metadata"]["name"] == name), None)
        return pod if pod and pod["metadata"].get("deletionTimestamp") else None

    pod = wait_for(marked, 20, "the stranded pod marked for deletion")
    said = events(api, name)
    assert ("NodeNotReady", "Node is not ready") in said
    assert ("TaintManagerEviction", f"Marking for deletion Pod {NS}/{name}") in said
    assert [c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready"] == ["False"]

    answer = httpx.delete(f"{sandbox.url}/sandbox/v1/nodes/{down}/failure")
    assert answer.status_code == 200
    wait_for(
        lambda: all(p["metadata"]["name"] != name for p in pods(api, "payments")),
        20,
        "the Terminating pod gone once the kubelet is back",
    )
    assert (
        httpx.put(
            f"{sandbox.url}/sandbox/v1/nodes/{down}/failure", json={"failure": "on-fire"}
        ).status_code
        == 422
    )
