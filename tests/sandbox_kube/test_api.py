"""The stand-in speaks the Kubernetes API as the official client expects it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from selfheal_lab.sandbox.kube import STATIC_ANNOTATION, KubeSandbox, create_pods
from tests.sandbox_kube.conftest import wait_for

NS = "demo"
BUSYBOX = "registry.sandbox.local/library/busybox:1.36"


def pod_manifest(name: str, labels: dict[str, str], **container: Any) -> Any:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": BUSYBOX, **container}]},
    }


def test_label_and_field_selectors(core: Any) -> None:
    for name, labels in (
        ("a", {"tier": "web", "env": "prod"}),
        ("b", {"tier": "db", "env": "prod"}),
        ("c", {"tier": "web"}),
    ):
        core.create_namespaced_config_map(NS, {"metadata": {"name": name, "labels": labels}})

    def names(**query: str) -> list[str]:
        items = core.list_namespaced_config_map(NS, **query).items
        return sorted(i.metadata.name for i in items if i.metadata.name in "abc")

    assert names(label_selector="tier=web") == ["a", "c"]
    assert names(label_selector="tier!=web") == ["b"]
    assert names(label_selector="tier in (db,cache)") == ["b"]
    assert names(label_selector="tier notin (db),env") == ["a"]
    assert names(label_selector="!env") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b", label_selector="tier=web") == ["a", "c"]
    running = core.list_pod_for_all_namespaces(
        field_selector="status.phase=Running", label_selector="app in (checkout,payments,catalog)"
    ).items
    assert len(running) == 6
    pod = running[0]
    events = core.list_namespaced_event(
        NS, field_selector=f"involvedObject.name={pod.metadata.name},involvedObject.kind=Pod"
    ).items
    assert {e.reason for e in events} >= {"Scheduled", "Started"}
    assert all(e.involved_object.name == pod.metadata.name for e in events)


def test_strategic_json_and_merge_patches(api: client.ApiClient, apps: Any) -> None:
    def container() -> dict[str, Any]:
        deployment = apps.read_namespaced_deployment("catalog", NS)
        data: dict[str, Any] = api.sanitize_for_serialization(deployment)
        return data["spec"]["template"]["spec"]["containers"][0]

    before = {e["name"] for e in container()["env"]}
    apps.patch_namespaced_deployment(
        "catalog",
        NS,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "catalog", "env": [{"name": "EXTRA", "value": "1"}]}
                        ]
                    }
                }
            }
        },
    )
    after = container()
    assert {e["name"] for e in after["env"]} == before | {"EXTRA"}
    assert after["image"].endswith("catalog:1.4.2")  # untouched fields survive a merge by name

    apps.patch_namespaced_deployment(
        "catalog",
        NS,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "catalog", "env": [{"name": "EXTRA", "$patch": "delete"}]}
                        ]
                    }
                }
            }
        },
    )
    assert {e["name"] for e in container()["env"]} == before

    apps.patch_namespaced_deployment(
        "catalog",
        NS,
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "x:1"}],
    )
    assert container()["image"] == "x:1"

    core_api: Any = client.CoreV1Api(api)
    core_api.create_namespaced_config_map(
        NS, {"metadata": {"name": "m"}, "data": {"a": "1", "b": "2"}}
    )
    core_api.patch_namespaced_config_map(
        "m",
        NS,
        {"data": {"a": None, "c": "3"}},
        _content_type="application/merge-patch+json",
    )
    assert core_api.read_namespaced_config_map("m", NS).data == {"b": "2", "c": "3"}


def test_generation_bumps_only_on_spec_change(apps: Any) -> None:
    generation = apps.read_namespaced_deployment("payments", NS).metadata.generation
    apps.patch_namespaced_deployment("payments", NS, {"metadata": {"labels": {"team": "x"}}})
    assert apps.read_namespaced_deployment("payments", NS).metadata.generation == generation
    apps.patch_namespaced_deployment_scale("payments", NS, {"spec": {"replicas": 3}})
    deployment = apps.read_namespaced_deployment("payments", NS)
    assert deployment.metadata.generation == generation + 1
    assert deployment.metadata.uid and deployment.metadata.creation_timestamp
    scale = apps.read_namespaced_deployment_scale("payments", NS)
    assert scale.spec.replicas == 3
    assert scale.status.selector == "app=payments"


def test_errors_are_status_objects(core: Any, apps: Any) -> None:
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("nope", NS)
    assert missing.value.status == 404
    assert json.loads(str(missing.value.body))["message"] == 'deployments.apps "nope" not found'
    assert json.loads(str(missing.value.body))["reason"] == "NotFound"

    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(NS, {"metadata": {"name": "checkout-config"}})
    assert exists.value.status == 409
    assert "AlreadyExists" in str(exists.value.body)

    bad = {
        "metadata": {"name": "bad"},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment(NS, bad)
    assert invalid.value.status == 422
    assert "`selector` does not match template `labels`" in str(invalid.value.body)

    with pytest.raises(ApiException) as no_namespace:
        core.create_namespaced_config_map("ghost", {"metadata": {"name": "x"}})
    assert no_namespace.value.status == 404
    assert 'namespaces \\"ghost\\" not found' in str(no_namespace.value.body)


def test_watch_streams_changes_until_timeout(core: Any) -> None:
    seen: list[tuple[str, str]] = []
    listing = core.list_namespaced_config_map(NS)

    def follow() -> None:
        stream = watch.Watch().stream(
            core.list_namespaced_config_map,
            NS,
            resource_version=listing.metadata.resource_version,
            timeout_seconds=2,
        )
        for event in stream:
            seen.append((event["type"], event["object"].metadata.name))

    watcher = threading.Thread(target=follow)
    watcher.start()
    time.sleep(0.2)
    core.create_namespaced_config_map(NS, {"metadata": {"name": "w"}, "data": {"k": "1"}})
    core.patch_namespaced_config_map("w", NS, {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w", NS)
    started = time.monotonic()
    watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert time.monotonic() - started < 5
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_status_sent_by_a_client_is_kept_for_static_pods(core: Any) -> None:
    status: Any = {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "main",
                "image": BUSYBOX,
                "imageID": "",
                "ready": False,
                "restartCount": 9,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
            }
        ],
    }
    manifest = pod_manifest("frozen", {"app": "frozen"})
    manifest["metadata"]["annotations"] = {STATIC_ANNOTATION: "true"}
    manifest["spec"]["nodeName"] = "elsewhere-1"
    manifest["status"] = status
    core.create_namespaced_pod(NS, manifest)
    time.sleep(0.3)  # several kubelet ticks
    pod = core.read_namespaced_pod("frozen", NS)
    assert pod.status.container_statuses[0].restart_count == 9
    assert pod.status.container_statuses[0].last_state.terminated.reason == "OOMKilled"

    status["containerStatuses"][0]["restartCount"] = 10
    core.patch_namespaced_pod_status("frozen", NS, {"status": status})
    assert core.read_namespaced_pod("frozen", NS).status.container_statuses[0].restart_count == 10


def test_a_command_that_exits_crash_loops_and_logs_are_per_instance(core: Any) -> None:
    core.create_namespaced_pod(
        NS,
        pod_manifest(
            "job",
            {"app": "job"},
            command=["sh", "-c", "echo starting worker; echo cannot reach queue; exit 3"],
        ),
    )

    def looping() -> Any:
        pod = core.read_namespaced_pod("job", NS)
        statuses = (pod.status and pod.status.container_statuses) or []
        return pod if statuses and statuses[0].restart_count >= 2 else None

    pod = wait_for(looping, what="restarts")
    terminated = pod.status.container_statuses[0].last_state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")
    previous = core.read_namespaced_pod_log("job", NS, container="main", previous=True)
    assert previous == "starting worker\ncannot reach queue\n"
    assert core.read_namespaced_pod_log("job", NS, tail_lines=1).strip() in (
        "",
        "cannot reach queue",
    )
    with pytest.raises(ApiException) as wrong:
        core.read_namespaced_pod_log("job", NS, container="other")
    assert wrong.value.status == 400


def test_events_api_group_shows_the_same_events(api: client.ApiClient, core: Any) -> None:
    core_events = core.list_namespaced_event(NS).items
    events_api: Any = client.EventsV1Api(api)
    new_events = events_api.list_namespaced_event(NS).items
    assert len(new_events) == len(core_events) > 0
    scheduled = next(e for e in new_events if e.reason == "Scheduled")
    assert scheduled.regarding.kind == "Pod"
    assert scheduled.reporting_controller == "default-scheduler"
    assert scheduled.note.startswith("Successfully assigned demo/")


def test_bulk_pods_are_created_quickly_and_left_alone(sandbox: KubeSandbox, core: Any) -> None:
    started = time.monotonic()
    population = create_pods(sandbox.store, "load", 200)
    assert time.monotonic() - started < 5
    pods = core.list_namespaced_pod("load").items
    assert len(pods) == 200 == len(population.pods)
    time.sleep(0.3)
    crashing = [
        p
        for p in core.list_namespaced_pod("load").items
        if p.status.container_statuses[0].state.waiting
    ]
    assert len(crashing) == 20
    assert len(core.list_namespaced_pod("load").items) == 200
