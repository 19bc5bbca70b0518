"""ResourceQuota admission in the sandbox: a ReplicaSet's pods over a quota are refused with
the API server's words, and created once the quota allows them."""

from __future__ import annotations

import re

from kubernetes import client

from selfheal.chaos import clear, inject
from tests.sandbox_kube.conftest import wait_for

NS = "demo"
REFUSAL = re.compile(
    r'^Error creating: pods "checkout-\w+-\w{5}" is forbidden: exceeded quota: checkout-gpus, '
    r"requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=0, "
    r"limited: requests.nvidia.com/gpu=0$"
)


def failed_creates(api: client.ApiClient) -> list[str]:
    listed = client.CoreV1Api(api).list_namespaced_event(NS, field_selector="reason=FailedCreate")
    return [str(e.message) for e in listed.items]


def test_a_pod_over_the_quota_is_refused_in_the_api_servers_words(api: client.ApiClient) -> None:
    inject(api, "quota-exceeded", NS, "checkout")
    message = wait_for(lambda: failed_creates(api), 15, "a FailedCreate event")[0]
    assert REFUSAL.match(message), message
    replica_sets = client.AppsV1Api(api).list_namespaced_replica_set(
        NS, label_selector="app=checkout"
    )
    conditions = [
        c
        for rs in replica_sets.items
        for c in ((rs.status.conditions if rs.status else None) or [])
        if c.type == "ReplicaFailure"
    ]
    assert [(c.status, c.reason) for c in conditions] == [("True", "FailedCreate")]
    assert conditions[0].message == message.removeprefix("Error creating: ")
    # The other workloads ask for no GPU: the quota does not stop them.
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        "payments", NS, {"spec": {"replicas": 3}}
    )
    wait_for(
        lambda: (
            len(client.CoreV1Api(api).list_namespaced_pod(NS, label_selector="app=payments").items)
            == 3
        ),
        15,
        "payments scaled to 3 under the GPU quota",
    )
    assert clear(api, NS, "checkout") == "quota-exceeded"
    assert client.CoreV1Api(api).list_namespaced_resource_quota(NS).items == []
