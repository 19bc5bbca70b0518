"""Pod Security admission in the sandbox: a namespace labelled
pod-security.kubernetes.io/enforce refuses pods below its level with the API server's words,
for a pod created directly (403 Forbidden) and for a ReplicaSet's (FailedCreate, the
ReplicaFailure condition, then the Deployment's ProgressDeadlineExceeded)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from selfheal.chaos import clear, inject
from tests.sandbox_kube.conftest import wait_for

NS = "demo"
REFUSAL = re.compile(
    r'^Error creating: pods "checkout-\w+-\w{5}" is forbidden: violates PodSecurity '
    r'"baseline:latest": privileged \(container "checkout" must not set '
    r"securityContext.privileged=true\)$"
)


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.sandbox.local/library/busybox:1.36"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], **spec},
    }


def _privileged(name: str, *containers: str) -> dict[str, Any]:
    pod = _pod(name)
    pod["spec"]["containers"] = [
        {
            "name": c,
            "image": "registry.sandbox.local/library/busybox:1.36",
            "securityContext": {"privileged": True},
        }
        for c in containers
    ]
    return pod


def _namespace(core: client.CoreV1Api, name: str, labels: dict[str, str]) -> None:
    core.create_namespace({"metadata": {"name": name, "labels": labels}})


def test_a_privileged_pod_is_refused_in_an_enforcing_namespace(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod(NS, _privileged("root-shell", "shell"))
    assert refused.value.status == 403
    body = json.loads(refused.value.body)
    assert (body["reason"], body["code"]) == ("Forbidden", 403)
    assert body["message"] == (
        'pods "root-shell" is forbidden: violates PodSecurity "baseline:latest": privileged '
        '(container "shell" must not set securityContext.privileged=true)'
    )
    assert [
        p.metadata.name
        for p in core.list_namespaced_pod(NS).items
        if p.metadata.name == "root-shell"
    ] == []


def test_every_failed_check_is_listed_with_the_pinned_version(core: client.CoreV1Api) -> None:
    _namespace(
        core,
        "locked",
        {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
        },
    )
    pod = _privileged("agent", "collector", "shipper")
    pod["spec"].update(hostNetwork=True, hostPID=True, hostIPC=True)
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod("locked", pod)
    assert json.loads(refused.value.body)["message"] == (
        'pods "agent" is forbidden: violates PodSecurity "restricted:v1.30": host namespaces '
        "(hostIPC=true, hostNetwork=true, hostPID=true), privileged "
        '(containers "collector", "shipper" must not set securityContext.privileged=true)'
    )


def test_a_namespace_without_an_enforced_level_admits_the_pod(core: client.CoreV1Api) -> None:
    _namespace(core, "open", {})
    _namespace(core, "allowed", {"pod-security.kubernetes.io/enforce": "privileged"})
    for namespace in ("open", "allowed"):
        created = core.create_namespaced_pod(namespace, _privileged("root-shell", "shell"))
        assert created.spec.containers[0].security_context.privileged is True
    # A compliant pod passes the enforcing namespace.
    assert core.create_namespaced_pod(NS, _pod("plain")).metadata.name == "plain"


def _refusals(api: client.ApiClient) -> list[str]:
    listed = client.CoreV1Api(api).list_namespaced_event(NS, field_selector="reason=FailedCreate")
    return [str(e.message) for e in listed.items]


def test_a_privileged_rollout_stalls_on_failed_creates_until_its_deadline(
    api: client.ApiClient,
) -> None:
    apps = client.AppsV1Api(api)
    inject(api, "rollout-stuck", NS, "checkout")
    message = wait_for(lambda: _refusals(api), 15, "a FailedCreate event")[0]
    assert REFUSAL.match(message), message
    replica_sets = apps.list_namespaced_replica_set(NS, label_selector="app=checkout").items
    failures = [
        c
        for rs in replica_sets
        for c in ((rs.status.conditions if rs.status else None) or [])
        if c.type == "ReplicaFailure"
    ]
    assert [(c.status, c.reason) for c in failures] == [("True", "FailedCreate")]
    assert failures[0].message == message.removeprefix("Error creating: ")

    def progressing() -> Any:
        deployment = apps.read_namespaced_deployment("checkout", NS)
        found = [c for c in deployment.status.conditions or [] if c.type == "Progressing"]
        return found[0] if found and found[0].status == "False" else None

    stalled = wait_for(progressing, 15, "Progressing=False")
    assert stalled.reason == "ProgressDeadlineExceeded"
    assert re.fullmatch(r'ReplicaSet "checkout-\w+" has timed out progressing\.', stalled.message)
    # The old pods keep serving: a rolling update never removes them for pods it cannot create.
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert deployment.status.available_replicas == 2
    assert clear(api, NS, "checkout") == "rollout-stuck"
    restored = apps.read_namespaced_deployment("checkout", NS)
    assert restored.spec.progress_deadline_seconds == 600
    assert restored.spec.template.spec.containers[0].security_context is None
