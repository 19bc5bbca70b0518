"""StatefulSets, their claims and volumes, through the official client."""

from __future__ import annotations

import threading
from typing import Any

from kubernetes import client, watch

from selfheal_lab.sandbox.kube import KubeSandbox
from tests.sandbox_kube.conftest import wait_for

NS = "demo"
LEDGER_IMAGE = "registry.sandbox.local/demo/ledger:2.3.0"
UNSCHEDULABLE = (
    "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: "
    "0/3 nodes are available: 3 Preemption is not helpful for scheduling."
)


def stateful_set(name: str, replicas: int = 2, **claim_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": LEDGER_IMAGE,
                            "readinessProbe": {
                                "httpGet": {"path": "/ready", "port": 8080},
                                "periodSeconds": 5,
                            },
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                        **claim_spec,
                    },
                }
            ],
        },
    }


def ready_replicas(apps: Any, name: str) -> int:
    status = apps.read_namespaced_stateful_set(name, NS).status
    return int((status.ready_replicas or 0) if status else 0)


def event_messages(core: Any, kind: str, name: str) -> list[tuple[str, str, str]]:
    events = core.list_namespaced_event(
        NS, field_selector=f"involvedObject.kind={kind},involvedObject.name={name}"
    ).items
    return [(e.type, e.reason, e.message) for e in events]


def is_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def test_pods_start_in_order_each_with_a_bound_claim(core: Any, apps: Any) -> None:
    seen: list[tuple[str, str, bool]] = []
    version = core.list_namespaced_pod(NS).metadata.resource_version

    def record() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_pod,
            NS,
            label_selector="app=books",
            resource_version=version,
            timeout_seconds=15,
        ):
            pod = event["object"]
            seen.append((event["type"], pod.metadata.name, is_ready(pod)))
            if pod.metadata.name == "books-1" and is_ready(pod):
                return

    watcher = threading.Thread(target=record, daemon=True)
    watcher.start()
    apps.create_namespaced_stateful_set(NS, stateful_set("books"))
    wait_for(lambda: ready_replicas(apps, "books") == 2, what="books ready")
    watcher.join(timeout=10)

    added = [name for kind, name, _ in seen if kind == "ADDED"]
    assert added == ["books-0", "books-1"]
    first_books_1 = next(i for i, (_, name, _) in enumerate(seen) if name == "books-1")
    assert any(name == "books-0" and ready for _, name, ready in seen[:first_books_1]), (
        "books-1 was created before books-0 was Ready"
    )

    sts = apps.read_namespaced_stateful_set("books", NS)
    assert sts.status.update_revision == sts.status.current_revision
    assert sts.status.updated_replicas == 2
    revision = client.AppsV1Api(apps.api_client).read_namespaced_controller_revision(
        sts.status.update_revision, NS
    )
    assert revision.revision == 1
    assert revision.metadata.owner_references[0].name == "books"
    for index in (0, 1):
        pod = core.read_namespaced_pod(f"books-{index}", NS)
        assert pod.metadata.labels["controller-revision-hash"] == sts.status.update_revision
        assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == f"books-{index}"
        claim_volume = next(v for v in pod.spec.volumes if v.name == "data")
        assert claim_volume.persistent_volume_claim.claim_name == f"data-books-{index}"
        claim = core.read_namespaced_persistent_volume_claim(f"data-books-{index}", NS)
        assert claim.status.phase == "Bound"
        assert claim.spec.storage_class_name == "standard"
        volume = core.read_persistent_volume(claim.spec.volume_name)
        assert volume.spec.claim_ref.name == f"data-books-{index}"
        assert volume.status.phase == "Bound"
        assert volume.spec.capacity == {"storage": "1Gi"}

    messages = event_messages(core, "StatefulSet", "books")
    assert ("Normal", "SuccessfulCreate", "create Pod books-0 in StatefulSet books successful") in (
        messages
    )
    assert (
        "Normal",
        "SuccessfulCreate",
        "create Claim data-books-1 Pod books-1 in StatefulSet books success",
    ) in messages


def test_missing_storage_class_keeps_the_claim_pending_and_the_pod_unschedulable(
    core: Any, apps: Any, api: client.ApiClient
) -> None:
    apps.create_namespaced_stateful_set(
        NS, stateful_set("vault", replicas=1, storageClassName="fast-ssd")
    )

    def unschedulable() -> Any:
        pod = core.read_namespaced_pod("vault-0", NS) if _exists(core, "vault-0") else None
        conditions = (pod.status.conditions or []) if pod else []
        return next((c for c in conditions if c.reason == "Unschedulable"), None)

    condition = wait_for(unschedulable, what="vault-0 unschedulable")
    assert condition.type == "PodScheduled" and condition.status == "False"
    assert condition.message == UNSCHEDULABLE
    assert ("Warning", "FailedScheduling", UNSCHEDULABLE) in event_messages(core, "Pod", "vault-0")
    claim = core.read_namespaced_persistent_volume_claim("data-vault-0", NS)
    assert claim.status.phase == "Pending"
    assert claim.spec.volume_name is None
    failed = ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found')
    wait_for(
        lambda: failed in event_messages(core, "PersistentVolumeClaim", "data-vault-0"),
        what="ProvisioningFailed",
    )
    assert core.read_namespaced_pod("vault-0", NS).spec.node_name is None

    client.StorageV1Api(api).create_storage_class(
        {"metadata": {"name": "fast-ssd"}, "provisioner": "rancher.io/local-path"}
    )
    wait_for(
        lambda: ready_replicas(apps, "vault") == 1,
        what="vault ready once its class exists",
    )
    assert core.read_namespaced_persistent_volume_claim("data-vault-0", NS).status.phase == "Bound"


def _exists(core: Any, pod: str) -> bool:
    return any(p.metadata.name == pod for p in core.list_namespaced_pod(NS).items)


def test_demo_ledger_rolls_from_the_highest_ordinal_down(
    sandbox: KubeSandbox, core: Any, apps: Any
) -> None:
    wait_for(
        lambda: ready_replicas(apps, "ledger") == 2,
        what="ledger ready",
    )
    before = apps.read_namespaced_stateful_set("ledger", NS).status.current_revision
    deleted: list[str] = []
    version = core.list_namespaced_pod(NS).metadata.resource_version

    def record() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_pod,
            NS,
            label_selector="app=ledger",
            resource_version=version,
            timeout_seconds=10,
        ):
            if event["type"] == "DELETED":
                deleted.append(event["object"].metadata.name)
            if len(deleted) == 2:
                return

    watcher = threading.Thread(target=record, daemon=True)
    watcher.start()
    apps.patch_namespaced_stateful_set(
        "ledger",
        NS,
        {"spec": {"template": {"metadata": {"annotations": {"rolled": "yes"}}}}},
    )

    def rolled() -> bool:
        status = apps.read_namespaced_stateful_set("ledger", NS).status
        return bool(
            status.current_revision == status.update_revision != before
            and status.ready_replicas == 2
            and status.updated_replicas == 2
        )

    wait_for(rolled, what="ledger rolled out")
    watcher.join(timeout=10)
    assert deleted == ["ledger-1", "ledger-0"]
    sts = apps.read_namespaced_stateful_set("ledger", NS)
    for index in (0, 1):
        pod = core.read_namespaced_pod(f"ledger-{index}", NS)
        assert pod.metadata.labels["controller-revision-hash"] == sts.status.update_revision
        assert pod.metadata.annotations["rolled"] == "yes"
    # The claims outlive the pods and are reused by the new ones.
    claims = core.list_namespaced_persistent_volume_claim(NS, label_selector="app=ledger").items
    assert sorted(c.metadata.name for c in claims) == ["data-ledger-0", "data-ledger-1"]
    revisions = (
        client.AppsV1Api(apps.api_client)
        .list_namespaced_controller_revision(NS, label_selector="app=ledger")
        .items
    )
    assert sorted(r.revision for r in revisions) == [1, 2]


def test_scaling_down_removes_the_highest_ordinal(core: Any, apps: Any) -> None:
    wait_for(
        lambda: ready_replicas(apps, "ledger") == 2,
        what="ledger ready",
    )
    apps.patch_namespaced_stateful_set_scale("ledger", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: not _exists(core, "ledger-1"), what="ledger-1 gone")
    assert _exists(core, "ledger-0")
    assert (
        "Normal",
        "SuccessfulDelete",
        "delete Pod ledger-1 in StatefulSet ledger successful",
    ) in event_messages(core, "StatefulSet", "ledger")
    wait_for(
        lambda: apps.read_namespaced_stateful_set("ledger", NS).status.replicas == 1,
        what="status shows one replica",
    )
