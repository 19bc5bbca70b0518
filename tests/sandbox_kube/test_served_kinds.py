"""Discovery and plain CRUD for the kinds the stand-in serves beyond pods and Deployments."""

from __future__ import annotations

from typing import Any

from kubernetes import client

NS = "demo"


def names(resource_list: Any) -> set[str]:
    return {r.name for r in resource_list.resources}


def test_discovery_lists_the_new_kinds(api: client.ApiClient) -> None:
    assert {"statefulsets", "statefulsets/scale", "daemonsets", "controllerrevisions"} <= names(
        client.AppsV1Api(api).get_api_resources()
    )
    assert {"jobs", "jobs/status", "cronjobs"} <= names(client.BatchV1Api(api).get_api_resources())
    assert "storageclasses" in names(client.StorageV1Api(api).get_api_resources())
    core = client.CoreV1Api(api).get_api_resources()
    assert {
        "persistentvolumeclaims",
        "persistentvolumes",
        "resourcequotas",
        "limitranges",
        "nodes",
    } <= names(core)
    volumes = next(r for r in core.resources if r.name == "persistentvolumes")
    assert volumes.namespaced is False and volumes.short_names == ["pv"]


def test_quota_and_limit_range_round_trip(core: Any) -> None:
    core.create_namespaced_resource_quota(
        NS, {"metadata": {"name": "compute"}, "spec": {"hard": {"requests.cpu": "4"}}}
    )
    core.create_namespaced_limit_range(
        NS,
        {
            "metadata": {"name": "defaults"},
            "spec": {"limits": [{"type": "Container", "default": {"memory": "256Mi"}}]},
        },
    )
    core.patch_namespaced_resource_quota("compute", NS, {"spec": {"hard": {"requests.cpu": "8"}}})
    assert core.read_namespaced_resource_quota("compute", NS).spec.hard == {"requests.cpu": "8"}
    ranges = core.list_namespaced_limit_range(NS).items
    assert [r.spec.limits[0].default for r in ranges] == [{"memory": "256Mi"}]
    core.delete_namespaced_limit_range("defaults", NS)
    assert core.list_namespaced_limit_range(NS).items == []


def test_default_storage_class_is_seeded(api: client.ApiClient) -> None:
    classes = client.StorageV1Api(api).list_storage_class().items
    assert [(c.metadata.name, c.provisioner) for c in classes] == [
        ("standard", "rancher.io/local-path")
    ]
    annotations = classes[0].metadata.annotations
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
